import NIOCore
import NIOHTTP1

/// Collects one HTTP response (status and body, at most ``maximumBodyBytes``) for
/// ``MQTTHTTPAuthenticator`` and completes its promise; the connection is closed afterwards.
final class MQTTHTTPAuthResponseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    /// Longest body accepted; a longer one fails the call.
    static let maximumBodyBytes = 64 * 1024

    let promise: EventLoopPromise<(HTTPResponseStatus, ByteBuffer)>
    var status: HTTPResponseStatus?
    var body = ByteBuffer()

    init(promise: EventLoopPromise<(HTTPResponseStatus, ByteBuffer)>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status
        case .body(var part):
            guard body.readableBytes + part.readableBytes <= Self.maximumBodyBytes else {
                promise.fail(MQTTHTTPAuthError.responseTooLarge)
                context.close(promise: nil)
                return
            }
            body.writeBuffer(&part)
        case .end:
            if let status {
                promise.succeed((status, body))
            } else {
                promise.fail(MQTTHTTPAuthError.noResponse)
            }
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(MQTTHTTPAuthError.noResponse)
        context.fireChannelInactive()
    }
}

/// Why a call to the HTTP authentication service failed.
enum MQTTHTTPAuthError: Error, CustomStringConvertible {
    case noResponse
    case responseTooLarge
    case timedOut
    case status(UInt)
    case badBody(String)

    var description: String {
        switch self {
        case .noResponse: "the connection closed without a response"
        case .responseTooLarge: "the response body is larger than \(MQTTHTTPAuthResponseHandler.maximumBodyBytes) bytes"
        case .timedOut: "no response within the timeout"
        case .status(let code): "HTTP status \(code)"
        case .badBody(let problem): "the response is not a decision: \(problem)"
        }
    }
}
