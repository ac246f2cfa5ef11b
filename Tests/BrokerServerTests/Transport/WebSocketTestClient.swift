import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// A NIOWebSocket client for the transport tests: upgrades on `path` offering `mqtt`, then sends
/// masked frames and hands every received frame to an async stream.
final class WebSocketTestClient: Sendable {
    enum Failure: Error {
        case upgradeFailed
        case timedOut
    }

    let channel: any Channel
    /// The headers of the 101 answer.
    let responseHeaders: HTTPHeaders
    private let mailbox: FrameMailbox

    private init(channel: any Channel, responseHeaders: HTTPHeaders, mailbox: FrameMailbox) {
        self.channel = channel
        self.responseHeaders = responseHeaders
        self.mailbox = mailbox
    }

    /// Connects to 127.0.0.1:`port` and completes the upgrade, or throws.
    static func connect(
        port: Int,
        path: String = "/mqtt",
        tls: NIOSSLContext? = nil,
        serverHostname: String? = nil
    ) async throws -> WebSocketTestClient {
        let mailbox = FrameMailbox()
        let upgraded = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: HTTPHeaders.self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls {
                        try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverHostname))
                    }
                    let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: 1 << 20, automaticErrorHandling: false) { channel, response in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(FrameCollector(mailbox: mailbox))
                            upgraded.succeed(response.headers)
                        }
                    }
                    try sync.addHTTPClientHandlers(
                        leftOverBytesStrategy: .forwardBytes,
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                    )
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        channel.closeFuture.whenComplete { _ in
            upgraded.fail(Failure.upgradeFailed)
            mailbox.finish()
        }
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: "localhost:\(port)")
        head.headers.add(name: "Sec-WebSocket-Protocol", value: "mqtt")
        head.headers.add(name: "Content-Length", value: "0")
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil))
        let headers = try await upgraded.futureResult.get()
        return WebSocketTestClient(channel: channel, responseHeaders: headers, mailbox: mailbox)
    }

    /// Sends one frame, masked as RFC 6455 requires of clients unless `masked` is false.
    func send(_ opcode: WebSocketOpcode, _ bytes: [UInt8], fin: Bool = true, masked: Bool = true) async throws {
        let data = channel.allocator.buffer(bytes: bytes)
        let frame = WebSocketFrame(fin: fin, opcode: opcode, maskKey: masked ? .random() : nil, data: data)
        try await channel.writeAndFlush(frame)
    }

    /// Sends MQTT bytes as one binary frame.
    func send(mqtt bytes: ByteBuffer) async throws {
        try await send(.binary, Array(bytes.readableBytesView))
    }

    /// The next frame the server sent, nil once the connection is closed and every frame was
    /// taken; throws when nothing arrives within `timeout`.
    func nextFrame(timeout: Duration = .seconds(10)) async throws -> WebSocketFrame? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            switch mailbox.take() {
            case .frame(let frame): return frame
            case .closed: return nil
            case .empty: try await Task.sleep(for: .milliseconds(5))
            }
        }
        throw Failure.timedOut
    }

    /// Waits until the connection is closed, or throws on timeout.
    func waitForClose(timeout: Duration = .seconds(10)) async throws {
        let channel = self.channel
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try? await channel.closeFuture.get() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw Failure.timedOut
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    func close() async {
        try? await channel.close()
    }
}

/// Frames received and not yet taken, and whether the connection ended.
final class FrameMailbox: Sendable {
    enum Taken {
        case frame(WebSocketFrame)
        case empty
        case closed
    }

    private let state = NIOLockedValueBox((frames: [WebSocketFrame](), closed: false))

    func append(_ frame: WebSocketFrame) {
        state.withLockedValue { $0.frames.append(frame) }
    }

    func finish() {
        state.withLockedValue { $0.closed = true }
    }

    func take() -> Taken {
        state.withLockedValue { state in
            if !state.frames.isEmpty { return .frame(state.frames.removeFirst()) }
            return state.closed ? .closed : .empty
        }
    }
}

/// Puts received frames in a mailbox.
private final class FrameCollector: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame

    private let mailbox: FrameMailbox

    init(mailbox: FrameMailbox) {
        self.mailbox = mailbox
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        mailbox.append(Self.unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        mailbox.finish()
        context.fireChannelInactive()
    }
}
