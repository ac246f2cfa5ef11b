import NIOCore
import NIOWebSocket

/// Turns WebSocket frames into the MQTT byte stream and back (MQTT 5.0 §6).
///
/// Inbound: binary frames become `ByteBuffer`s of MQTT bytes for the MQTT decoder downstream
/// (which handles packets spanning frames and frames holding several packets); a fragmented
/// message is joined from its continuation frames up to ``maximumMessageSize``; ping is
/// answered with pong; close is answered with close (echoing the status code) and the channel
/// is closed; text frames are refused with close 1003, oversized messages with 1009, frames
/// out of sequence with 1002.
///
/// Outbound: every `ByteBuffer` written becomes one binary frame; closing the channel sends a
/// normal-closure close frame first.
public final class MQTTWebSocketFrameHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = WebSocketFrame
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = WebSocketFrame

    /// The largest message (a binary frame with its continuations) accepted.
    public let maximumMessageSize: Int
    /// The partial message of a fragmented binary frame.
    private var fragments: ByteBuffer?
    /// Whether a close frame has been sent; nothing is written after it.
    private var closeSent = false

    /// A handler joining fragmented messages up to `maximumMessageSize` bytes.
    public init(maximumMessageSize: Int = 1 << 20) {
        self.maximumMessageSize = maximumMessageSize
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        // RFC 6455 §5.1: a server closes the connection on a frame a client sent unmasked.
        guard frame.maskKey != nil else {
            return fail(context: context, code: .protocolError)
        }
        switch frame.opcode {
        case .binary:
            guard fragments == nil else {
                return fail(context: context, code: .protocolError)
            }
            let payload = frame.unmaskedData
            guard payload.readableBytes <= maximumMessageSize else {
                return fail(context: context, code: .messageTooLarge)
            }
            if frame.fin {
                if payload.readableBytes > 0 { context.fireChannelRead(Self.wrapInboundOut(payload)) }
            } else {
                fragments = payload
            }
        case .continuation:
            guard var message = fragments else {
                return fail(context: context, code: .protocolError)
            }
            var payload = frame.unmaskedData
            guard message.readableBytes + payload.readableBytes <= maximumMessageSize else {
                fragments = nil
                return fail(context: context, code: .messageTooLarge)
            }
            fragments = nil
            message.writeBuffer(&payload)
            if frame.fin {
                if message.readableBytes > 0 { context.fireChannelRead(Self.wrapInboundOut(message)) }
            } else {
                fragments = message
            }
        case .ping:
            guard !closeSent else { return }
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(Self.wrapOutboundOut(pong), promise: nil)
        case .pong:
            break
        case .connectionClose:
            receivedClose(context: context, payload: frame.unmaskedData)
        case .text:
            fail(context: context, code: .unacceptableData)
        default:
            fail(context: context, code: .protocolError)
        }
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !closeSent else {
            promise?.fail(ChannelError.outputClosed)
            return
        }
        let frame = WebSocketFrame(fin: true, opcode: .binary, data: Self.unwrapOutboundIn(data))
        context.write(Self.wrapOutboundOut(frame), promise: promise)
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .all && !closeSent && context.channel.isActive {
            sendClose(context: context, code: .normalClosure)
        }
        context.close(mode: mode, promise: promise)
    }

    /// The peer started or answered the closing handshake.
    private func receivedClose(context: ChannelHandlerContext, payload: ByteBuffer) {
        if !closeSent {
            var payload = payload
            sendClose(context: context, code: Self.echoable(payload.readWebSocketErrorCode()))
        }
        context.close(promise: nil)
    }

    /// Sends a close frame with `code` then closes the channel.
    private func fail(context: ChannelHandlerContext, code: WebSocketErrorCode) {
        guard !closeSent else { return }
        sendClose(context: context, code: code)
        context.close(promise: nil)
    }

    /// The status code to echo in the close reply: the peer's when it may appear on the wire
    /// (RFC 6455 §7.4), otherwise normal closure.
    static func echoable(_ code: WebSocketErrorCode?) -> WebSocketErrorCode {
        guard let code else { return .normalClosure }
        let number = UInt16(webSocketErrorCode: code)
        switch number {
        case 1000...1003, 1007...1011, 3000...4999: return code
        default: return .normalClosure
        }
    }

    private func sendClose(context: ChannelHandlerContext, code: WebSocketErrorCode) {
        closeSent = true
        var data = context.channel.allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: code)
        context.writeAndFlush(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)), promise: nil)
    }
}
