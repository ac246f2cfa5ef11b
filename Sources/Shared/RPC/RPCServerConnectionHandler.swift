import Logging
import NIOCore

/// Sent down a server connection's pipeline to begin a graceful close: new requests are refused
/// with `unavailable`, and the connection closes once its in-flight calls finished.
struct RPCServerDrainEvent: Sendable {}

/// Serves one RPC connection: dispatches request frames through an ``RPCRouter``, tracks the
/// calls in flight (deadline timers, cancellation, stream credit) and writes their results.
///
/// Runs entirely on the channel's event loop. Writes are batched: frames produced while reading
/// are flushed once in `channelReadComplete`; frames produced by completions are flushed once per
/// loop tick.
final class RPCServerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = RPCFrame
    typealias OutboundOut = ByteBuffer

    private struct ActiveCall {
        let methodID: UInt32
        let methodName: String
        let started: NIODeadline
        let cancellation: RPCCancellation
        let sink: RPCStreamSink?
    }

    private let router: RPCRouter
    private let logger: Logger
    private let metrics: RPCMetrics
    private var calls: [UInt64: ActiveCall] = [:]
    private var deadlines: RPCDeadlineQueue?
    private var context: ChannelHandlerContext?
    private var peer: SocketAddress?
    private var draining = false
    private var lastWrite: EventLoopFuture<Void>?
    private var outbound = RPCOutboundFrames()

    init(router: RPCRouter, logger: Logger, metrics: RPCMetrics) {
        self.router = router
        self.logger = logger
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.peer = context.channel.remoteAddress
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        self.peer = context.channel.remoteAddress
        self.metrics.connectionOpened()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.metrics.connectionClosed()
        let calls = self.calls
        self.calls = [:]
        let reason = RPCError(.unavailable, "connection closed")
        self.deadlines?.cancelAll()
        for (_, call) in calls {
            call.sink?.close(reason)
            call.cancellation.cancel(reason)
            self.metrics.record(method: call.methodName, error: reason, since: call.started)
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        self.outbound.beginReading()
        switch frame.kind {
        case .request:
            self.handleRequest(frame, context: context)
        case .cancel:
            self.finishCall(frame.correlationID, reason: RPCError(.cancelled, "cancelled by caller"))
        case .windowUpdate:
            guard frame.body.readableBytes == 4, let credit = frame.body.getInteger(at: frame.body.readerIndex, as: UInt32.self) else {
                self.protocolViolation(.malformedBody(kind: .windowUpdate, reason: "expected a 4-byte credit"), context: context)
                return
            }
            self.calls[frame.correlationID]?.sink?.grant(Int(credit))
        case .ping:
            self.write(RPCFrame(kind: .pong, correlationID: frame.correlationID, body: frame.body))
        case .pong:
            break
        case .response, .streamItem, .streamEnd, .error:
            self.protocolViolation(.malformedBody(kind: frame.kind, reason: "not valid from a client"), context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.outbound.endReading() {
            self.flushNow()
        }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is RPCServerDrainEvent {
            self.draining = true
            self.closeIfDrained()
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let frameError = error as? RPCFrameError {
            self.metrics.frameRejected()
            self.logger.warning("closing RPC connection after malformed frame", metadata: [
                "peer": "\(self.peer.map { "\($0)" } ?? "?")", "error": "\(frameError)",
            ])
        } else {
            self.logger.debug("RPC connection error", metadata: ["error": "\(error)"])
        }
        context.close(promise: nil)
    }

    private func protocolViolation(_ error: RPCFrameError, context: ChannelHandlerContext) {
        self.metrics.frameRejected()
        self.logger.warning("closing RPC connection after protocol violation", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: - Calls

    private func handleRequest(_ frame: RPCFrame, context: ChannelHandlerContext) {
        let id = frame.correlationID
        guard self.calls[id] == nil else {
            self.protocolViolation(.malformedBody(kind: .request, reason: "correlation id \(id) already in use"), context: context)
            return
        }
        guard let handler = self.router.handler(for: frame.methodID) else {
            let error = RPCError(.unknownMethod, "no method with id \(frame.methodID)")
            self.write(.error(error, methodID: frame.methodID, correlationID: id))
            self.metrics.record(method: "unknown", error: error, since: .now())
            return
        }
        if self.draining {
            let error = RPCError(.unavailable, "server is shutting down")
            self.write(.error(error, methodID: frame.methodID, correlationID: id))
            return
        }
        let started = NIODeadline.now()
        // Deadlines are on the loop's clock (virtual time in tests), relative to receipt.
        let deadline = frame.timeoutMillis == 0 ? nil : context.eventLoop.now + .milliseconds(Int64(frame.timeoutMillis))
        let callContext = RPCCallContext(
            methodName: handler.name,
            deadline: deadline,
            peer: self.peer,
            logger: self.logger,
            eventLoop: context.eventLoop,
            callID: id
        )
        let loop = context.eventLoop
        var sink: RPCStreamSink?
        if case .stream = handler {
            sink = RPCStreamSink(eventLoop: loop) { bytes in
                self.write(RPCFrame(kind: .streamItem, methodID: frame.methodID, correlationID: id, body: bytes))
            }
        }
        let call = ActiveCall(
            methodID: frame.methodID,
            methodName: handler.name,
            started: started,
            cancellation: callContext.cancellation,
            sink: sink
        )
        self.calls[id] = call
        if let deadline {
            let deadlines = self.deadlines ?? RPCDeadlineQueue(eventLoop: loop)
            self.deadlines = deadlines
            deadlines.add(deadline: deadline, isPending: { self.calls[id] != nil }) {
                // The caller stopped waiting: cancel the handler and drop whatever it produces.
                self.finishCall(id, reason: RPCError(.deadlineExceeded, "deadline exceeded on server"))
            }
        }

        switch handler {
        case .unary(_, let body):
            body(frame.body, callContext).hop(to: loop).assumeIsolated().whenComplete { result in
                guard self.calls[id] != nil else { return }
                switch result {
                case .success(let response):
                    self.completeCall(id, with: RPCFrame(kind: .response, methodID: frame.methodID, correlationID: id, body: response), error: nil)
                case .failure(let error):
                    let rpcError = RPCError.from(error)
                    self.completeCall(id, with: .error(rpcError, methodID: frame.methodID, correlationID: id), error: rpcError)
                }
            }
        case .stream(_, let body):
            guard let sink else { return }
            body(frame.body, callContext, sink).hop(to: loop).assumeIsolated().whenComplete { result in
                guard self.calls[id] != nil else { return }
                switch result {
                case .success:
                    sink.finish {
                        self.completeCall(id, with: RPCFrame(kind: .streamEnd, methodID: frame.methodID, correlationID: id), error: nil)
                    }
                case .failure(let error):
                    let rpcError = RPCError.from(error)
                    sink.close(rpcError)
                    self.completeCall(id, with: .error(rpcError, methodID: frame.methodID, correlationID: id), error: rpcError)
                }
            }
        }
    }

    /// The handler finished: send its final frame.
    private func completeCall(_ id: UInt64, with frame: RPCFrame, error: RPCError?) {
        guard let call = self.calls.removeValue(forKey: id) else { return }
        self.metrics.record(method: call.methodName, error: error, since: call.started)
        self.write(frame)
        self.closeIfDrained()
    }

    /// The call ends without an answer (cancel or deadline): cancel the handler.
    private func finishCall(_ id: UInt64, reason: RPCError) {
        guard let call = self.calls.removeValue(forKey: id) else { return }
        call.sink?.close(reason)
        call.cancellation.cancel(reason)
        self.metrics.record(method: call.methodName, error: reason, since: call.started)
        self.closeIfDrained()
    }

    private func closeIfDrained() {
        guard self.draining, self.calls.isEmpty, let context = self.context else { return }
        self.flushNow()
        // Close only once the final frames reached the socket (close fails unwritten writes).
        if let lastWrite = self.lastWrite {
            lastWrite.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            context.close(promise: nil)
        }
    }

    // MARK: - Writing

    private func write(_ frame: RPCFrame) {
        guard let context = self.context else { return }
        if self.outbound.append(frame) {
            context.eventLoop.assumeIsolated().execute {
                self.outbound.scheduledFlushRan()
                self.flushNow()
            }
        }
    }

    /// Writes every frame encoded since the last flush as one buffer, and flushes.
    private func flushNow() {
        guard let context = self.context else { return }
        if let frames = self.outbound.take(allocator: context.channel.allocator) {
            if self.draining {
                let promise = context.eventLoop.makePromise(of: Void.self)
                context.write(self.wrapOutboundOut(frames), promise: promise)
                self.lastWrite = promise.futureResult
            } else {
                context.write(self.wrapOutboundOut(frames), promise: nil)
            }
        }
        context.flush()
    }
}
