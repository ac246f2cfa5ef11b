import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Shared
import Synchronization

/// Counts the bytes a client sends (before decoding) for the broker's `$SYS` totals and metrics,
/// and enforces the per-client bandwidth limit (`mqtt.limits.bandwidth`).
///
/// Throttling: bytes pass on to the decoder only as fast as a token bucket (rate = burst = the
/// limit) allows; what arrived early waits here, and while anything waits the handler holds back
/// `read()`, so the socket is not read from and TCP back-pressure slows the client down. The
/// waiting bytes are bounded by one read cycle (nothing more is read while they wait); nothing is
/// dropped, and whatever still waits when the client closes is passed on first.
final class MQTTByteCounter: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The smallest slice passed on while throttled (fewer, larger decoder steps).
    static let minimumSlice = 4096

    let broker: MQTTBroker
    private var bandwidth: TokenBucket?
    private var waiting: [ByteBuffer] = []
    private var heldRead = false
    private var resume: Scheduled<Void>?

    init(broker: MQTTBroker) {
        self.broker = broker
        if let limit = (broker.authorizer as? MQTTAccessControl)?.configuration.bandwidth, limit > 0 {
            bandwidth = TokenBucket(rate: Double(limit), burst: Double(limit), now: MQTTBroker.monotonicNow())
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        broker.count(bytesIn: buffer.readableBytes)
        guard bandwidth != nil else {
            context.fireChannelRead(data)
            return
        }
        waiting.append(buffer)
        passOn(context: context)
    }

    func read(context: ChannelHandlerContext) {
        guard waiting.isEmpty else {
            heldRead = true
            return
        }
        context.read()
    }

    func channelInactive(context: ChannelHandlerContext) {
        resume?.cancel()
        resume = nil
        let rest = waiting
        waiting = []
        for buffer in rest { context.fireChannelRead(wrapInboundOut(buffer)) }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        resume?.cancel()
        resume = nil
    }

    /// Passes on as many waiting bytes as the bucket allows; schedules itself for the rest and
    /// re-issues a held `read()` once nothing waits.
    private func passOn(context: ChannelHandlerContext) {
        while var first = waiting.first, bandwidth != nil {
            let now = MQTTBroker.monotonicNow()
            let wanted = min(first.readableBytes, Self.minimumSlice)
            let wait = bandwidth?.nanoseconds(until: Double(wanted), now: now) ?? 0
            if wait > 0 {
                schedule(in: wait, context: context)
                return
            }
            let available = Int(bandwidth?.available(now: now) ?? 0)
            let count = max(1, min(first.readableBytes, available))
            _ = bandwidth?.take(Double(count), now: now)
            // Dequeued before it is passed on: passing it on may close the channel, which
            // re-enters this handler (channelInactive hands over what still waits).
            guard let slice = first.readSlice(length: count) else { break }
            if first.readableBytes == 0 {
                waiting.removeFirst()
            } else {
                waiting[0] = first
            }
            context.fireChannelRead(wrapInboundOut(slice))
        }
        if heldRead {
            heldRead = false
            context.read()
        }
    }

    private func schedule(in nanoseconds: UInt64, context: ChannelHandlerContext) {
        guard resume == nil else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        resume = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(clamping: nanoseconds))) {
            let (handler, context) = bound.value
            handler.resume = nil
            handler.passOn(context: context)
        }
    }
}
