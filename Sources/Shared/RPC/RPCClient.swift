import Atomics
import Logging
import NIOCore
import NIOPosix

/// The socket ``RPCTransport``: a pool of connections to one or more servers.
///
/// - Calls are spread round-robin over `configuration.connections` connections, each pipelining
///   many outstanding calls; request frames are written as they come and flushed once per loop tick.
/// - Connections are opened lazily and re-opened after a drop; failed attempts back off
///   exponentially with jitter. Calls in flight when a connection drops fail with `unavailable`;
///   the next call reconnects.
/// - Deadlines are enforced on the client too: a timer fails the call with `deadlineExceeded` and
///   sends `cancel`. Cancelling the calling task sends `cancel` as well.
public final class RPCClient: RPCTransport {
    /// The configuration the client was created with.
    public let configuration: RPCClientConfiguration
    private let slots: [RPCConnectionSlot]
    private let nextSlot = ManagedAtomic<Int>(0)
    private let metrics: RPCMetrics

    /// Creates a client; no connection is opened until the first call.
    public init(configuration: RPCClientConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.configuration = configuration
        let metrics = RPCMetrics(role: "client")
        self.metrics = metrics
        self.slots = (0..<configuration.connections).map { index in
            RPCConnectionSlot(eventLoop: group.next(), configuration: configuration, index: index, logger: logger, metrics: metrics)
        }
    }

    /// Convenience: a client of `endpoints` with `connections` pooled connections.
    public convenience init(endpoints: [RPCEndpoint], connections: Int = 1, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.init(configuration: RPCClientConfiguration(endpoints: endpoints, connections: connections), group: group, logger: logger)
    }

    private func pickSlot() -> RPCConnectionSlot {
        let index = self.nextSlot.loadThenWrappingIncrement(ordering: .relaxed)
        return self.slots[index % self.slots.count]
    }

    public func unary(methodID: UInt32, methodName: String, request: ByteBuffer, options: RPCCallOptions) -> RPCRawUnaryCall {
        let slot = self.pickSlot()
        let started = NIODeadline.now()
        let promise = slot.eventLoop.makePromise(of: ByteBuffer.self)
        let call = RPCUnaryClientCall(
            eventLoop: slot.eventLoop,
            promise: promise,
            methodID: methodID,
            request: request,
            deadline: options.effectiveDeadline(now: started),
            started: started
        )
        Self.start(call, methodName: methodName, on: slot)
        return RPCRawUnaryCall(response: promise.futureResult, canceller: call)
    }

    /// Starts a unary call whose response is decoded on the connection's event loop straight into
    /// the returned future (one future per call).
    public func unaryDecoding<Response: RPCMessage>(
        methodID: UInt32,
        methodName: String,
        request: ByteBuffer,
        options: RPCCallOptions,
        as responseType: Response.Type
    ) -> EventLoopFuture<Response> {
        let slot = self.pickSlot()
        let started = NIODeadline.now()
        let call = RPCDecodingClientCall<Response>(
            eventLoop: slot.eventLoop,
            methodID: methodID,
            methodName: methodName,
            request: request,
            deadline: options.effectiveDeadline(now: started),
            started: started
        )
        Self.start(call, methodName: methodName, on: slot)
        return call.typedPromise.futureResult
    }

    /// A caller already on the connection's loop (a pipelined chain of calls) sends at once, and
    /// the connection handler completes the call straight from its read.
    private static func start(_ call: RPCUnaryClientCall, methodName: String, on slot: RPCConnectionSlot) {
        if slot.eventLoop.inEventLoop {
            slot.start(call, methodName: methodName)
        } else {
            slot.eventLoop.execute { slot.start(call, methodName: methodName) }
        }
    }

    public func serverStream(methodID: UInt32, methodName: String, request: ByteBuffer, options: RPCCallOptions) -> RPCRawResponseStream {
        let slot = self.pickSlot()
        let loop = slot.eventLoop
        let started = NIODeadline.now()
        let deadline = options.effectiveDeadline(now: started)
        let receiver = RPCStreamReceiver(window: options.streamWindow)
        let call = RPCClientCall(eventLoop: loop) { error in receiver.finish(error) }
        receiver.bind(.init(grant: { credit in call.grant(credit) }, cancel: { reason in call.abort(reason) }))
        let metrics = self.metrics
        receiver.whenTerminated {
            metrics.record(method: methodName, error: receiver.terminalError, since: started)
        }
        if let deadline {
            let timer = loop.scheduleTask(deadline: deadline) {
                call.abort(RPCError(.deadlineExceeded, "deadline exceeded"))
            }
            receiver.whenTerminated { timer.cancel() }
        }
        loop.execute {
            slot.withConnection { result in
                guard !call.aborted, !receiver.isTerminated else { return }
                switch result {
                case .failure(let error):
                    receiver.finish(error)
                case .success(let connection):
                    guard let timeoutMillis = RPCCallOptions.timeoutMillis(until: deadline) else {
                        call.abort(RPCError(.deadlineExceeded, "deadline exceeded before the call was sent"))
                        return
                    }
                    if let id = connection.startStream(methodID: methodID, body: request, timeoutMillis: timeoutMillis, receiver: receiver) {
                        call.markSent(on: connection, correlationID: id)
                    }
                }
            }
        }
        return RPCRawResponseStream(receiver: receiver)
    }

    /// Closes every connection; later calls fail with `unavailable`.
    public func shutdown() async {
        for slot in self.slots {
            let closed = slot.eventLoop.flatSubmit { slot.close() }
            try? await closed.get()
        }
    }
}
