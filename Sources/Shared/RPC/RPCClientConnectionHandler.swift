import Logging
import NIOCore

/// The client end of one RPC connection: assigns correlation ids, writes request frames and
/// routes response, stream and error frames back to the waiting calls.
///
/// Loop-bound: every method runs on the channel's event loop. Many calls may be outstanding at
/// once (pipelining); frames written outside a read are flushed once per loop tick. Frames are
/// split from the byte stream right here with ``RPCFrameDecoder`` (no separate decoding handler:
/// passing each frame down the pipeline boxed it into an existential per frame).
final class RPCClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Pending {
        case unary(RPCUnaryClientCall)
        case stream(RPCStreamReceiver)

        func fail(_ error: RPCError) {
            switch self {
            case .unary(let call): call.fail(error)
            case .stream(let receiver): receiver.finish(error)
            }
        }
    }

    private let logger: Logger
    private let metrics: RPCMetrics
    private let keepAliveInterval: TimeAmount?
    private var keepAliveTimer: Scheduled<Void>?
    private var readSinceKeepAlive = false
    private var pingOutstanding = false
    /// Calls awaiting an answer, by correlation id (ids are allocated by the table).
    private var pending = RPCCorrelationTable<Pending>()
    private var context: ChannelHandlerContext?
    private var countedAsOpen = false
    private var outbound = RPCOutboundFrames()
    private let frames: NIOSingleStepByteToMessageProcessor<RPCFrameDecoder>
    /// Set once the server broke the protocol; later bytes are ignored while the channel closes.
    private var rejected = false

    /// `keepAliveInterval`: when nothing was read for this long, send a ping; when the next
    /// interval passes without any frame (pong or otherwise), close the connection as dead.
    /// `maxFrameBytes`: the largest frame body accepted from the server.
    init(logger: Logger, metrics: RPCMetrics, keepAliveInterval: TimeAmount? = nil, maxFrameBytes: Int = RPCFrame.defaultMaxFrameBytes) {
        self.logger = logger
        self.metrics = metrics
        self.keepAliveInterval = keepAliveInterval
        self.frames = NIOSingleStepByteToMessageProcessor(RPCFrameDecoder(maxFrameBytes: maxFrameBytes))
    }

    /// Whether calls can be sent (the channel may report active before `channelActive` ran).
    private var isActive: Bool { self.context?.channel.isActive ?? false }

    /// Number of calls awaiting an answer.
    var outstandingCalls: Int { self.pending.count }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        self.countedAsOpen = true
        self.metrics.connectionOpened()
        self.scheduleKeepAlive(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.finishDecoding()
        if self.countedAsOpen {
            self.metrics.connectionClosed()
        }
        self.countedAsOpen = false
        self.keepAliveTimer?.cancel()
        self.keepAliveTimer = nil
        let pending = self.pending.removeAll()
        let error = RPCError(.unavailable, "connection to \(context.remoteAddress.map { "\($0)" } ?? "server") closed")
        for call in pending {
            call.fail(error)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is RPCFrameError {
            self.metrics.frameRejected()
            self.logger.warning("closing RPC connection after malformed frame from server", metadata: ["error": "\(error)"])
        } else {
            self.logger.debug("RPC client connection error", metadata: ["error": "\(error)"])
        }
        context.close(promise: nil)
    }

    // MARK: - Starting calls

    /// Sends a unary request; `call` is completed with the answer (straight from `channelRead`).
    /// Returns the correlation id.
    @discardableResult
    func startUnary(_ call: RPCUnaryClientCall, timeoutMillis: UInt32) -> UInt64? {
        guard self.isActive else {
            call.fail(RPCError(.unavailable, "connection is closed"))
            return nil
        }
        let id = self.pending.insert(.unary(call))
        call.markSent(on: self, correlationID: id)
        self.write(RPCFrame(kind: .request, methodID: call.methodID, correlationID: id, timeoutMillis: timeoutMillis, body: call.request))
        return id
    }

    /// Sends a stream request and the initial credit window. Returns the correlation id.
    func startStream(methodID: UInt32, body: ByteBuffer, timeoutMillis: UInt32, receiver: RPCStreamReceiver) -> UInt64? {
        guard self.isActive else {
            receiver.finish(RPCError(.unavailable, "connection is closed"))
            return nil
        }
        let id = self.pending.insert(.stream(receiver))
        self.write(RPCFrame(kind: .request, methodID: methodID, correlationID: id, timeoutMillis: timeoutMillis, body: body))
        self.write(.windowUpdate(correlationID: id, credit: UInt32(clamping: receiver.window)))
        return id
    }

    /// Gives up on a call (cancel or client-side deadline): fails it and tells the server.
    func abort(_ id: UInt64, _ error: RPCError) {
        guard let call = self.pending.removeValue(forKey: id) else { return }
        call.fail(error)
        self.write(RPCFrame(kind: .cancel, correlationID: id))
    }

    /// Grants `credit` more items to stream `id`.
    func grant(_ id: UInt64, credit: Int) {
        guard case .stream? = self.pending[id] else { return }
        self.write(.windowUpdate(correlationID: id, credit: UInt32(clamping: credit)))
    }

    // MARK: - Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.rejected else { return }
        self.outbound.beginReading()
        self.readSinceKeepAlive = true
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
            self.logger.debug("RPC connection to server ended inside a frame", metadata: ["error": "\(error)"])
        }
    }

    private func handle(_ frame: RPCFrame, context: ChannelHandlerContext) {
        let id = frame.correlationID
        switch frame.kind {
        case .response:
            if case .unary(let call)? = self.pending.removeValue(forKey: id) {
                call.succeed(frame.body)
            }
        case .streamItem:
            if case .stream(let receiver)? = self.pending[id] {
                receiver.deliver(frame.body)
            }
        case .streamEnd:
            if case .stream(let receiver)? = self.pending.removeValue(forKey: id) {
                receiver.finish(nil)
            }
        case .error:
            var body = frame.body
            let error: RPCError
            do {
                error = try RPCError(rpcBody: &body)
            } catch {
                self.protocolViolation(.malformedBody(kind: .error, reason: "\(error)"), context: context)
                return
            }
            self.pending.removeValue(forKey: id)?.fail(error)
        case .ping:
            self.write(RPCFrame(kind: .pong, correlationID: id, body: frame.body))
        case .pong:
            break
        case .request, .cancel, .windowUpdate:
            self.protocolViolation(.malformedBody(kind: frame.kind, reason: "not valid from a server"), context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.outbound.endReading() {
            self.flushNow()
        }
        context.fireChannelReadComplete()
    }

    private func protocolViolation(_ error: RPCFrameError, context: ChannelHandlerContext) {
        self.rejected = true
        self.metrics.frameRejected()
        self.logger.warning("closing RPC connection after protocol violation by server", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: - Keep-alive

    private func scheduleKeepAlive(context: ChannelHandlerContext) {
        guard let interval = self.keepAliveInterval, interval > .zero else { return }
        self.keepAliveTimer = context.eventLoop.assumeIsolated().scheduleTask(in: interval) {
            self.keepAliveTick(context: context)
        }
    }

    private func keepAliveTick(context: ChannelHandlerContext) {
        if self.readSinceKeepAlive {
            self.readSinceKeepAlive = false
            self.pingOutstanding = false
        } else if self.pingOutstanding {
            self.logger.warning("closing RPC connection: no answer to keep-alive ping")
            context.close(promise: nil)
            return
        } else {
            self.pingOutstanding = true
            // Correlation id 0 is never used by calls.
            self.write(RPCFrame(kind: .ping, correlationID: 0))
        }
        self.scheduleKeepAlive(context: context)
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
            context.write(self.wrapOutboundOut(frames), promise: nil)
        }
        context.flush()
    }
}
