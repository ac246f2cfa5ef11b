import Logging
import NIOCore
import NIOPosix

/// An ``RPCTransport`` that dispatches straight into an ``RPCRouter`` in the same process: no
/// sockets and no framing, but the same semantics as the socket transport — deadlines (the
/// handler is cancelled and the caller gets `deadlineExceeded`), cancellation, `unknownMethod`,
/// and credit-based back-pressure on server streams. Used in standalone mode and tests.
public struct InProcessTransport: RPCTransport {
    private let router: RPCRouter
    private let group: any EventLoopGroup
    private let logger: Logger
    private let metrics: RPCMetrics

    /// Serves `router`'s methods on loops of `group`.
    public init(router: RPCRouter, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.router = router
        self.group = group
        self.logger = logger
        self.metrics = RPCMetrics(role: "inprocess")
    }

    public func unary(methodID: UInt32, methodName: String, request: ByteBuffer, options: RPCCallOptions) -> RPCRawUnaryCall {
        let loop = self.group.next()
        let started = NIODeadline.now()
        let deadline = options.effectiveDeadline(now: started)
        let cancellation = RPCCancellation()
        let once = RPCPromiseOnce(loop.makePromise(of: ByteBuffer.self))
        let call = RPCRawUnaryCall(response: once.futureResult) { reason in cancellation.cancel(reason) }
        let handler = self.router.handler(for: methodID)
        let name: String
        switch handler {
        case .unary(let unaryName, _)?, .unarySync(let unaryName, _)?:
            name = unaryName
        case .stream?:
            once.complete(.failure(RPCError(.invalidArgument, "method \(methodName) is a stream")))
            return call
        case nil:
            once.complete(.failure(RPCError(.unknownMethod, "no method with id \(methodID)")))
            return call
        }
        if let deadline, deadline <= started {
            once.complete(.failure(RPCError(.deadlineExceeded, "deadline already passed")))
            return call
        }
        let metrics = self.metrics
        once.futureResult.whenComplete { result in
            if case .failure(let error) = result {
                metrics.record(method: name, error: RPCError.from(error), since: started)
            } else {
                metrics.record(method: name, error: nil, since: started)
            }
        }
        cancellation.onCancel { reason in once.complete(.failure(reason)) }
        let context = self.makeContext(name: name, deadline: deadline, loop: loop, cancellation: cancellation)
        loop.execute {
            guard !cancellation.isCancelled else { return }
            let timer = deadline.map { deadline in
                loop.scheduleTask(deadline: deadline) {
                    cancellation.cancel(RPCError(.deadlineExceeded, "deadline exceeded"))
                }
            }
            once.futureResult.whenComplete { _ in timer?.cancel() }
            switch handler {
            case .unary(_, let body)?:
                body(request, context).hop(to: loop).whenComplete { result in
                    once.complete(result.mapError { RPCError.from($0) })
                }
            case .unarySync(_, let body)?:
                var response = ByteBuffer()
                do {
                    try body(request, context, &response)
                    once.complete(.success(response))
                } catch {
                    once.complete(.failure(RPCError.from(error)))
                }
            case .stream?, nil:
                break  // answered above
            }
        }
        return call
    }

    public func serverStream(methodID: UInt32, methodName: String, request: ByteBuffer, options: RPCCallOptions) -> RPCRawResponseStream {
        let loop = self.group.next()
        let started = NIODeadline.now()
        let deadline = options.effectiveDeadline(now: started)
        guard case .stream(let name, let handler)? = self.router.handler(for: methodID) else {
            return .failed(self.router.handler(for: methodID) == nil
                ? RPCError(.unknownMethod, "no method with id \(methodID)")
                : RPCError(.invalidArgument, "method \(methodName) is not a stream"))
        }
        if let deadline, deadline <= started {
            return .failed(RPCError(.deadlineExceeded, "deadline already passed"))
        }
        let window = options.streamWindow
        let receiver = RPCStreamReceiver(window: window)
        let stream = RPCRawResponseStream(receiver: receiver)
        let cancellation = RPCCancellation()
        let context = self.makeContext(name: name, deadline: deadline, loop: loop, cancellation: cancellation)
        let metrics = self.metrics
        loop.execute {
            let sink = RPCStreamSink(eventLoop: loop) { bytes in receiver.deliver(bytes) }
            receiver.bind(.init(
                grant: { credit in loop.execute { sink.grant(credit) } },
                cancel: { reason in cancellation.cancel(reason) }
            ))
            cancellation.onCancel { reason in
                loop.execute { sink.close(reason) }
                receiver.finish(reason)
            }
            guard !receiver.isTerminated else {
                cancellation.cancel(RPCError(.cancelled, "stream cancelled by caller"))
                return
            }
            sink.grant(window)
            let timer = deadline.map { deadline in
                loop.scheduleTask(deadline: deadline) {
                    cancellation.cancel(RPCError(.deadlineExceeded, "deadline exceeded"))
                }
            }
            receiver.whenTerminated { timer?.cancel() }
            handler(request, context, sink).hop(to: loop).whenComplete { result in
                switch result {
                case .success:
                    sink.finish {
                        metrics.record(method: name, error: nil, since: started)
                        receiver.finish(nil)
                    }
                case .failure(let error):
                    let rpcError = RPCError.from(error)
                    metrics.record(method: name, error: rpcError, since: started)
                    sink.close(rpcError)
                    receiver.finish(rpcError)
                }
            }
        }
        return stream
    }

    private func makeContext(name: String, deadline: NIODeadline?, loop: any EventLoop, cancellation: RPCCancellation) -> RPCCallContext {
        RPCCallContext(methodName: name, deadline: deadline, peer: nil, logger: self.logger, eventLoop: loop, cancellation: cancellation)
    }
}
