import DequeModule
import NIOCore
import NIOPosix

/// The `--baseline` comparison: a raw NIO echo server (no framing, no dispatch) and a client that
/// does the same per-call work the RPC load generator's calls get, minus the RPC layer.
///
/// The client sends frames of exactly the RPC request's size and layout, each with its own
/// correlation id, keeps the same number in flight, and counts a call only once its complete
/// echoed frame has arrived (the frame's declared length is read from its header, split frames
/// are reassembled) and its correlation id matched the oldest outstanding request; its latency
/// is recorded per call in the same histogram, and the next call is issued from that
/// completion. Frames written during a read batch go out as one buffer and one flush at the end
/// of the batch, as the RPC client does.
enum BenchRPCBaseline {
    /// Echoes every byte back; flushes once per read batch.
    final class EchoHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.write(data, promise: nil)
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            context.flush()
        }
    }

    /// A mismatch between an echoed frame and the request it should answer.
    struct EchoMismatch: Error, CustomStringConvertible {
        let expected: UInt64?
        let received: UInt64

        var description: String { "echoed frame \(self.received) does not match the oldest request \(self.expected.map { "\($0)" } ?? "(none)")" }
    }

    /// Keeps `depth` frames in flight; matches each echoed frame to its request by correlation id.
    final class ClientHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        /// Offsets in the RPC frame header (see `RPCFrame`).
        static let correlationIDOffset = 10
        static let bodyLengthOffset = 22
        static let headerSize = 26

        private let frame: ByteBuffer
        private let depth: Int
        private let recorder: BenchLatencyRecorder
        private let done: EventLoopPromise<Void>
        private var sent = Deque<(id: UInt64, start: NIODeadline)>()
        private var nextID: UInt64 = 1
        private var inbound: ByteBuffer?
        private var outbound: ByteBuffer
        private var failed = false

        init(frame: ByteBuffer, depth: Int, recorder: BenchLatencyRecorder, done: EventLoopPromise<Void>) {
            self.frame = frame
            self.depth = depth
            self.recorder = recorder
            self.done = done
            self.outbound = ByteBuffer()
        }

        func channelActive(context: ChannelHandlerContext) {
            for _ in 0..<self.depth where self.recorder.shouldIssue() {
                self.send()
            }
            self.flush(context)
            self.finishIfIdle()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = self.unwrapInboundIn(data)
            if var partial = self.inbound {
                self.inbound = nil
                partial.writeBuffer(&bytes)
                bytes = partial
            }
            while let length = bytes.getInteger(at: bytes.readerIndex + Self.bodyLengthOffset, as: UInt32.self),
                  bytes.readableBytes >= Self.headerSize + Int(length),
                  let id = bytes.getInteger(at: bytes.readerIndex + Self.correlationIDOffset, as: UInt64.self)
            {
                bytes.moveReaderIndex(forwardBy: Self.headerSize + Int(length))
                guard let request = self.sent.popFirst(), request.id == id else {
                    self.fail(EchoMismatch(expected: self.sent.first?.id, received: id), context: context)
                    return
                }
                self.recorder.recordSuccess(since: request.start)
                if self.recorder.shouldIssue() {
                    self.send()
                }
            }
            if bytes.readableBytes > 0 {
                self.inbound = bytes
            }
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            self.flush(context)
            self.finishIfIdle()
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.done.fail(ChannelError.ioOnClosedChannel)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            self.fail(error, context: context)
        }

        private func fail(_ error: any Error, context: ChannelHandlerContext) {
            self.failed = true
            self.recorder.recordFailure()
            self.done.fail(error)
            context.close(promise: nil)
        }

        /// Appends one request frame with a fresh correlation id to the outbound buffer.
        private func send() {
            let id = self.nextID
            self.nextID &+= 1
            let start = self.outbound.writerIndex
            self.outbound.writeImmutableBuffer(self.frame)
            self.outbound.setInteger(id, at: start + Self.correlationIDOffset)
            self.sent.append((id, .now()))
        }

        private func flush(_ context: ChannelHandlerContext) {
            guard self.outbound.readableBytes > 0 else { return }
            let frames = self.outbound
            self.outbound = context.channel.allocator.buffer(capacity: max(256, frames.readableBytes))
            context.writeAndFlush(self.wrapOutboundOut(frames), promise: nil)
        }

        private func finishIfIdle() {
            if self.sent.isEmpty && !self.failed {
                self.done.succeed()
            }
        }
    }

    /// Starts the echo server on 127.0.0.1 (port 0).
    static func startServer(group: any EventLoopGroup) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(EchoHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    /// Runs `connections` clients with `concurrency` frames in flight in total.
    static func runClients(
        group: any EventLoopGroup,
        address: SocketAddress,
        connections: Int,
        concurrency: Int,
        frame: ByteBuffer,
        recorder: BenchLatencyRecorder
    ) async throws {
        var channels: [any Channel] = []
        var finished: [EventLoopFuture<Void>] = []
        for index in 0..<connections {
            let depth = concurrency / connections + (index < concurrency % connections ? 1 : 0)
            let loop = group.next()
            let done = loop.makePromise(of: Void.self)
            finished.append(done.futureResult)
            let channel = try await ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ClientHandler(frame: frame, depth: max(1, depth), recorder: recorder, done: done)
                        )
                    }
                }
                .connect(to: address)
                .get()
            channels.append(channel)
        }
        var firstError: (any Error)?
        for future in finished {
            do {
                try await future.get()
            } catch {
                firstError = firstError ?? error
            }
        }
        for channel in channels {
            try? await channel.close()
        }
        if let firstError {
            throw firstError
        }
    }
}
