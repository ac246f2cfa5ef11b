import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Shared
import Synchronization

/// Counts the bytes a client sends (before decoding) for the broker's `$SYS` totals and metrics,
/// and enforces the per-client bandwidth limit (`mqtt.limits.bandwidth`): the bytes read are
/// charged to a token bucket, and while it is in debt the handler holds back `read()` so the
/// socket is not read from (TCP back-pressure slows the client down; nothing is dropped).
final class MQTTByteCounter: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let broker: MQTTBroker
    private var bandwidth: TokenBucket?
    private var throttledUntil: UInt64 = 0
    private var heldRead = false
    private var resume: Scheduled<Void>?

    init(broker: MQTTBroker) {
        self.broker = broker
        if let limit = (broker.authorizer as? MQTTAccessControl)?.configuration.bandwidth, limit > 0 {
            bandwidth = TokenBucket(rate: Double(limit), burst: Double(limit), now: MQTTBroker.monotonicNow())
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let count = unwrapInboundIn(data).readableBytes
        broker.count(bytesIn: count)
        if bandwidth != nil {
            let now = MQTTBroker.monotonicNow()
            let wait = bandwidth?.charge(Double(count), now: now) ?? 0
            if wait > 0 { throttledUntil = max(throttledUntil, now + wait) }
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        let now = MQTTBroker.monotonicNow()
        guard throttledUntil > now else {
            context.read()
            return
        }
        heldRead = true
        guard resume == nil else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        resume = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(throttledUntil - now))) {
            let (handler, context) = bound.value
            handler.resume = nil
            guard handler.heldRead else { return }
            handler.heldRead = false
            handler.read(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        resume?.cancel()
        resume = nil
    }
}
