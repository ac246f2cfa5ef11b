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
/// loop tick. Frames are split from the byte stream right here with ``RPCFrameDecoder`` (no
/// separate decoding handler: passing each frame down the pipeline boxed it per frame).
final class RPCServerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A call whose handler has not answered yet (future-based and stream handlers only;
    /// synchronous handlers answer before the next frame is read and are never tracked).
    private struct ActiveCall {
        let methodID: UInt32
        let metrics: RPCMetrics.Method
        let started: NIODeadline
        let cancellation: RPCCancellation
        let sink: RPCStreamSink?
        /// Tells this call apart from a later call reusing its correlation id.
        let serial: UInt64
    }

    /// Names one tracked call in the deadline queue.
    private struct CallKey {
        let id: UInt64
        let serial: UInt64
    }

    /// A method as this connection dispatches it: the router's handler and its metrics,
    /// looked up once per method per connection.
    private struct Method {
        let handler: RPCRouter.Handler
        let metrics: RPCMetrics.Method
    }

    private let router: RPCRouter
    private let logger: Logger
    private let metrics: RPCMetrics
    private var methods: [UInt32: Method] = [:]
    private var lastMethod: (UInt32, Method)?
    private var calls: [UInt64: ActiveCall] = [:]
    private var nextSerial: UInt64 = 0
    private var sampler = RPCLatencySampler()
    private var deadlines: RPCDeadlineQueue<CallKey>?
    private var context: ChannelHandlerContext?
    private var peer: SocketAddress?
    private var draining = false
    private var lastWrite: EventLoopFuture<Void>?
    private var outbound = RPCOutboundFrames()

    private let frames: NIOSingleStepByteToMessageProcessor<RPCFrameDecoder>
    /// Set once the client broke the protocol; later bytes are ignored while the channel closes.
    private var rejected = false
    /// When the read batch being processed arrived (read once per batch, on first need).
    private var batchReceived: NIODeadline?

    /// `maxFrameBytes`: the largest frame body accepted from clients.
    init(router: RPCRouter, logger: Logger, metrics: RPCMetrics, maxFrameBytes: Int = RPCFrame.defaultMaxFrameBytes) {
        self.router = router
        self.logger = logger
        self.metrics = metrics
        self.frames = NIOSingleStepByteToMessageProcessor(RPCFrameDecoder(maxFrameBytes: maxFrameBytes))
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
        self.finishDecoding()
        self.metrics.connectionClosed()
        let calls = self.calls
        self.calls = [:]
        let reason = RPCError(.unavailable, "connection closed")
        self.deadlines?.cancelAll()
        for (_, call) in calls {
            call.sink?.close(reason)
            call.cancellation.cancel(reason)
            call.metrics.recordFailure(reason, since: call.started)
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.rejected else { return }
        self.outbound.beginReading()
        self.batchReceived = nil
        do {
            try self.frames.process(buffer: self.unwrapInboundIn(data)) { frame in
                if !self.rejected {
                    self.handle(frame, context: context)
                }
            }
        } catch {
            self.rejected = true
            self.errorCaught(context: context, error: error)
        }
    }

    /// A frame cut short by the end of the stream is reported like any malformed frame.
    private func finishDecoding() {
        guard !self.rejected else { return }
        do {
            try self.frames.finishProcessing(seenEOF: true) { _ in }
        } catch {
            self.rejected = true
            self.metrics.frameRejected()
            self.logger.debug("RPC connection ended inside a frame", metadata: [
                "peer": "\(self.peer.map { "\($0)" } ?? "?")", "error": "\(error)",
            ])
        }
    }

    private func handle(_ frame: RPCFrame, context: ChannelHandlerContext) {
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
        self.rejected = true
        self.metrics.frameRejected()
        self.logger.warning("closing RPC connection after protocol violation", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: - Calls

    private func method(_ methodID: UInt32) -> Method? {
        // Requests in a row usually call the same method: no hashing for those.
        if let (id, method) = self.lastMethod, id == methodID {
            return method
        }
        let method: Method
        if let cached = self.methods[methodID] {
            method = cached
        } else {
            guard let handler = self.router.handler(for: methodID) else { return nil }
            method = Method(handler: handler, metrics: self.metrics.method(handler.name))
            self.methods[methodID] = method
        }
        self.lastMethod = (methodID, method)
        return method
    }

    private func handleRequest(_ frame: RPCFrame, context: ChannelHandlerContext) {
        let id = frame.correlationID
        guard self.calls.isEmpty || self.calls[id] == nil else {
            self.protocolViolation(.malformedBody(kind: .request, reason: "correlation id \(id) already in use"), context: context)
            return
        }
        guard let method = self.method(frame.methodID) else {
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
        let loop = context.eventLoop
        let timed = self.sampler.next()
        // Deadlines are on the loop's clock (virtual time in tests), relative to receipt; every
        // request of one read batch arrived at the same time, so the clock is read once per batch
        // and only when a request has a deadline or is timed (metrics sample).
        var received = NIODeadline.uptimeNanoseconds(0)
        if frame.timeoutMillis != 0 || timed {
            received = self.batchReceived ?? loop.now
            self.batchReceived = received
        }
        let deadline = frame.timeoutMillis == 0 ? nil : received + .milliseconds(Int64(frame.timeoutMillis))
        var isSync = false
        if case .unarySync = method.handler { isSync = true }
        let callContext = RPCCallContext(
            methodName: method.metrics.name,
            deadline: deadline,
            peer: self.peer,
            logger: self.logger,
            eventLoop: loop,
            // A synchronous handler answers before anything could cancel it.
            cancellation: isSync ? .uncancellable : RPCCancellation(),
            callID: id
        )
        switch method.handler {
        case .unarySync(_, let body):
            self.answerSync(frame, body: body, context: callContext, metrics: method.metrics, started: timed ? received : nil)
        case .unary(_, let body):
            self.track(frame, metrics: method.metrics, started: received, deadline: deadline, callContext: callContext, sink: nil)
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
            let sink = RPCStreamSink(eventLoop: loop) { bytes in
                self.write(RPCFrame(kind: .streamItem, methodID: frame.methodID, correlationID: id, body: bytes))
            }
            self.track(frame, metrics: method.metrics, started: received, deadline: deadline, callContext: callContext, sink: sink)
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

    /// Runs a synchronous handler and queues its answer: the response is encoded straight into
    /// the outbound buffer; no call is tracked (it ends before anything could cancel it).
    private func answerSync(
        _ frame: RPCFrame,
        body: @Sendable (ByteBuffer, RPCCallContext, inout ByteBuffer) throws -> Void,
        context callContext: RPCCallContext,
        metrics: RPCMetrics.Method,
        started: NIODeadline?
    ) {
        let needsFlush: Bool
        do {
            needsFlush = try self.outbound.append(kind: .response, methodID: frame.methodID, correlationID: frame.correlationID) { out in
                try body(frame.body, callContext, &out)
            }
        } catch {
            let rpcError = RPCError.from(error)
            metrics.recordFailure(rpcError, since: started)
            self.write(.error(rpcError, methodID: frame.methodID, correlationID: frame.correlationID))
            return
        }
        metrics.recordSuccess()
        if let started {
            metrics.recordDuration(since: started)
        }
        if needsFlush {
            self.scheduleFlush()
        }
    }

    /// Starts tracking a future-based or stream call: cancellation, deadline, metrics.
    private func track(
        _ frame: RPCFrame,
        metrics: RPCMetrics.Method,
        started: NIODeadline,
        deadline: NIODeadline?,
        callContext: RPCCallContext,
        sink: RPCStreamSink?
    ) {
        let id = frame.correlationID
        self.nextSerial &+= 1
        let serial = self.nextSerial
        // Tracked calls always report their duration, so they need a start time.
        let started = started.uptimeNanoseconds == 0 ? callContext.eventLoop.now : started
        self.calls[id] = ActiveCall(
            methodID: frame.methodID,
            metrics: metrics,
            started: started,
            cancellation: callContext.cancellation,
            sink: sink,
            serial: serial
        )
        if let deadline {
            let deadlines = self.deadlines ?? RPCDeadlineQueue<CallKey>(
                eventLoop: callContext.eventLoop,
                isPending: { [weak self] key in self?.calls[key.id]?.serial == key.serial },
                expire: { [weak self] key in
                    // The caller stopped waiting: cancel the handler and drop whatever it produces.
                    self?.finishCall(key.id, reason: RPCError(.deadlineExceeded, "deadline exceeded on server"))
                }
            )
            self.deadlines = deadlines
            deadlines.add(deadline: deadline, key: CallKey(id: id, serial: serial))
        }
    }

    /// The handler finished: send its final frame.
    private func completeCall(_ id: UInt64, with frame: RPCFrame, error: RPCError?) {
        guard let call = self.calls.removeValue(forKey: id) else { return }
        if let error {
            call.metrics.recordFailure(error, since: call.started)
        } else {
            call.metrics.recordSuccess()
            call.metrics.recordDuration(since: call.started)
        }
        self.write(frame)
        self.closeIfDrained()
    }

    /// The call ends without an answer (cancel or deadline): cancel the handler.
    private func finishCall(_ id: UInt64, reason: RPCError) {
        guard let call = self.calls.removeValue(forKey: id) else { return }
        call.sink?.close(reason)
        call.cancellation.cancel(reason)
        call.metrics.recordFailure(reason, since: call.started)
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
        guard self.context != nil else { return }
        if self.outbound.append(frame) {
            self.scheduleFlush()
        }
    }

    /// Flushes at the end of this loop tick (frames queued outside a read batch).
    private func scheduleFlush() {
        guard let context = self.context else { return }
        context.eventLoop.assumeIsolated().execute {
            self.outbound.scheduledFlushRan()
            self.flushNow()
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
