import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Answers the HTTP requests the WebSocket upgrader refused: 404 for another path, 400 for a
/// request on the MQTT path that cannot be upgraded (no upgrade, no `mqtt` subprotocol, broken
/// handshake headers). Logs one line per refusal and closes the connection after the answer.
///
/// It sits after NIO's `HTTPServerUpgradeHandler` and is removed from the pipeline when an
/// upgrade succeeds, before any WebSocket bytes flow.
final class MQTTWebSocketRejectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The pipeline name, so the upgrade completion can remove it.
    static let name = "mqtt-websocket-rejection"

    private let policy: MQTTWebSocketUpgradePolicy
    private let logger: Logger
    private var answered = false

    init(policy: MQTTWebSocketUpgradePolicy, logger: Logger) {
        self.policy = policy
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = Self.unwrapInboundIn(data), !answered else { return }
        answered = true
        let status: HTTPResponseStatus
        let reason: String
        switch policy.decide(head) {
        case .notFound(let path):
            status = .notFound
            reason = "no MQTT endpoint at \(path)"
        case .badRequest(let why):
            status = .badRequest
            reason = why
        case .accept:
            // The policy agreed but NIO's upgrader did not: the handshake headers are invalid
            // (missing Sec-WebSocket-Key, version other than 13, ...).
            status = .badRequest
            reason = "invalid WebSocket handshake headers"
        }
        logger.info(
            "MQTT WebSocket upgrade refused",
            metadata: [
                "status": "\(status.code)", "uri": "\(head.uri)", "reason": "\(reason)",
                "remote": "\(context.remoteAddress.map { "\($0)" } ?? "?")",
            ]
        )
        var body = context.channel.allocator.buffer(capacity: reason.utf8.count + 1)
        body.writeString(reason + "\n")
        var response = HTTPResponseHead(version: head.version, status: status)
        response.headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        response.headers.add(name: "Content-Length", value: "\(body.readableBytes)")
        response.headers.add(name: "Connection", value: "close")
        context.write(Self.wrapOutboundOut(.head(response)), promise: nil)
        context.write(Self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The upgrader reports its refusal as an error just before it hands the request on to
        // channelRead, which answers it; anything else ends the connection.
        if error is NIOWebSocketUpgradeError { return }
        logger.debug("MQTT WebSocket handshake failed", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
