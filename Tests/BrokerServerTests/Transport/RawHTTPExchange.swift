import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// Sends raw bytes to a local port and returns everything the server sent until it closed the
/// connection; throws if it does not close within the timeout.
enum RawHTTPExchange {
    enum Failure: Error {
        case serverDidNotClose(received: String)
        case incompleteResponse(received: String)
    }

    static func send(_ request: String, port: Int, timeout: Duration = .seconds(10)) async throws -> String {
        let received = NIOLockedValueBox("")
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(received: received))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        try await channel.writeAndFlush(channel.allocator.buffer(string: request))
        let deadline = ContinuousClock.now + timeout
        while channel.isActive && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        guard !channel.isActive else {
            try? await channel.close()
            throw Failure.serverDidNotClose(received: received.withLockedValue { $0 })
        }
        return received.withLockedValue { $0 }
    }

    /// Sends `request` and returns the response head once it is complete (the connection stays
    /// open until then, and is closed by the client afterwards).
    static func sendExpectingOpen(_ request: String, port: Int, timeout: Duration = .seconds(10)) async throws -> String {
        let received = NIOLockedValueBox("")
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(received: received))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        try await channel.writeAndFlush(channel.allocator.buffer(string: request))
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let text = received.withLockedValue { $0 }
            if text.contains("\r\n\r\n") {
                #expect(channel.isActive, "the server closed an accepted upgrade")
                try? await channel.close()
                return text
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        try? await channel.close()
        throw Failure.incompleteResponse(received: received.withLockedValue { $0 })
    }

    /// The status code of the first response line, e.g. 404.
    static func status(of response: String) -> Int? {
        guard let line = response.split(separator: "\r\n").first else { return nil }
        let parts = line.split(separator: " ")
        return parts.count >= 2 ? Int(parts[1]) : nil
    }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer

        let received: NIOLockedValueBox<String>

        init(received: NIOLockedValueBox<String>) {
            self.received = received
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Self.unwrapInboundIn(data)
            received.withLockedValue { $0 += String(buffer: bytes) }
        }
    }
}
