import DequeModule
import NIOCore
import NIOPosix

/// The `--baseline` comparison: a raw NIO echo server and a client sending fixed-size frames of
/// the same size as the RPC request, with the same pipelining depth — no RPC layer at all.
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

    /// Keeps `depth` frames in flight; matches echoes to sends in FIFO order.
    final class ClientHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        private let frame: ByteBuffer
        private let depth: Int
        private let recorder: BenchLatencyRecorder
        private let done: EventLoopPromise<Void>
        private var sent = Deque<NIODeadline>()
        private var partialBytes = 0

        init(frame: ByteBuffer, depth: Int, recorder: BenchLatencyRecorder, done: EventLoopPromise<Void>) {
            self.frame = frame
            self.depth = depth
            self.recorder = recorder
            self.done = done
        }

        func channelActive(context: ChannelHandlerContext) {
            for _ in 0..<self.depth where self.recorder.shouldIssue() {
                self.send(context)
            }
            context.flush()
            self.finishIfIdle()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            self.partialBytes += self.unwrapInboundIn(data).readableBytes
            while self.partialBytes >= self.frame.readableBytes, let start = self.sent.popFirst() {
                self.partialBytes -= self.frame.readableBytes
                self.recorder.recordSuccess(since: start)
                if self.recorder.shouldIssue() {
                    self.send(context)
                }
            }
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            context.flush()
            self.finishIfIdle()
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.done.fail(ChannelError.ioOnClosedChannel)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            self.done.fail(error)
            context.close(promise: nil)
        }

        private func send(_ context: ChannelHandlerContext) {
            self.sent.append(.now())
            context.write(self.wrapOutboundOut(self.frame), promise: nil)
        }

        private func finishIfIdle() {
            if self.sent.isEmpty {
                self.done.succeed()
            }
        }
    }

    /// Starts the echo server on 127.0.0.1 (port 0).
    static func startServer(group: any EventLoopGroup) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
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
        for future in finished {
            try await future.get()
        }
        for channel in channels {
            try? await channel.close()
        }
    }
}
