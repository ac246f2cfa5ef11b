import NIOCore

@testable import BrokerServer

/// The test stand-in for the broker's `configureMQTT`: decodes MQTT with our decoder and answers
/// CONNECT with CONNACK, PINGREQ with PINGRESP, SUBSCRIBE with SUBACK (QoS 0), echoes PUBLISH and
/// closes on DISCONNECT; a decoding error closes the connection.
final class MQTTEchoServerHandler: ChannelInboundHandler {
    typealias InboundIn = MQTTPacket
    typealias OutboundOut = ByteBuffer

    private var version: MQTTProtocolVersion = .v5

    /// Installs the decoder and this handler on a channel carrying raw MQTT bytes.
    static func configure(_ channel: any Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MQTTDecoder()))
            try channel.pipeline.syncOperations.addHandler(MQTTEchoServerHandler())
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let packet = Self.unwrapInboundIn(data)
        let answer: MQTTPacket
        switch packet {
        case .connect(let connect):
            version = connect.protocolVersion
            answer = .connack(MQTTConnAck())
        case .pingreq:
            answer = .pingresp
        case .publish(let publish):
            answer = .publish(publish)
        case .subscribe(let subscribe):
            // Grants QoS 0 to every filter; every PUBLISH is echoed to its sender.
            answer = .suback(MQTTSubAck(packetIdentifier: subscribe.packetIdentifier, reasonCodes: subscribe.subscriptions.map { _ in .success }))
        case .disconnect:
            context.close(promise: nil)
            return
        default:
            return
        }
        var out = context.channel.allocator.buffer(capacity: 64)
        do {
            try answer.encode(version: version, into: &out)
        } catch {
            context.close(promise: nil)
            return
        }
        context.write(Self.wrapOutboundOut(out), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
