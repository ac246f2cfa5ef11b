import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// Counts the bytes a client sends (before decoding) for the broker's `$SYS` totals and metrics.
final class MQTTByteCounter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let broker: MQTTBroker

    init(broker: MQTTBroker) {
        self.broker = broker
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        broker.count(bytesIn: unwrapInboundIn(data).readableBytes)
        context.fireChannelRead(data)
    }
}
