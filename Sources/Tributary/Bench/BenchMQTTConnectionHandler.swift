import BrokerServer
import NIOCore

/// Drives one benchmark connection on its event loop: sends CONNECT (and SUBSCRIBE), publishes
/// paced or window-bounded, answers the QoS 1/2 handshakes, counts and records latency. Every
/// packet of one loop tick is encoded into one buffer and flushed once. Decisions come from
/// ``BenchMQTTFlow``; this type only does IO.
final class BenchMQTTConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = MQTTPacket
    typealias OutboundOut = ByteBuffer

    /// What the connection does once connected.
    enum Role: Sendable {
        /// Only connects (`conn`).
        case idle
        /// Publishes to a topic when told to start.
        case publisher(topic: String)
        /// Subscribes to a filter.
        case subscriber(filter: String)
    }

    /// Commands from the runner, delivered as inbound user events.
    enum Command: Sendable {
        /// Start publishing until `stopAt`.
        case publish(stopAt: NIODeadline)
        /// Send DISCONNECT and close.
        case disconnect
    }

    /// Everything fixed about the connection.
    struct Plan: Sendable {
        var index: Int
        var clientIdentifier: String
        var version: MQTTProtocolVersion
        var qos: MQTTQoS
        var role: Role
        var payloadBytes: Int
        /// Messages per second; 0 = as fast as the window allows.
        var rate: Int
        var window: Int
        /// Write a monotonic timestamp (uptime nanoseconds) into the first 8 payload bytes.
        var stampPayload: Bool
        /// What goes into the latency histogram.
        var latency: Latency
    }

    /// What a connection records as latency.
    enum Latency: Sendable {
        case none
        /// CONNECT to CONNACK (to SUBACK for subscribers).
        case connect
        /// PUBLISH to PUBACK / PUBCOMP.
        case acknowledgement
        /// The payload's timestamp to delivery (same host: the monotonic clock is shared).
        case endToEnd
    }

    /// Most PUBLISHes written in one go before yielding the event loop.
    static let maximumBatch = 256

    private let plan: Plan
    private let stats: BenchMQTTStats
    private let recorder: BenchLatencyRecorder
    /// Succeeds on CONNACK (publishers, idle) or SUBACK (subscribers).
    private let ready: EventLoopPromise<Void>
    /// Succeeds once publishing stopped and every in-flight message completed.
    private let drained: EventLoopPromise<Void>
    private var flow: BenchMQTTFlow
    private var context: ChannelHandlerContext?
    private var batch: ByteBuffer
    private var payload: ByteBuffer
    private var connectStartedAt = NIODeadline.now()
    private var isReady = false
    private var closing = false
    private var publishing = false
    private var publishStartedAt = NIODeadline.now()
    private var stopAt = NIODeadline.distantPast
    private var published = 0
    private var publishStarted = false
    private var pacing: RepeatedTask?
    private var pumpScheduled = false
    /// Counts of the current read burst, added to the shared stats once per burst.
    private var burstReceived = 0
    private var burstReceivedBytes = 0
    private var burstAcked = 0

    init(plan: Plan, stats: BenchMQTTStats, recorder: BenchLatencyRecorder, ready: EventLoopPromise<Void>, drained: EventLoopPromise<Void>) {
        self.plan = plan
        self.stats = stats
        self.recorder = recorder
        self.ready = ready
        self.drained = drained
        self.flow = BenchMQTTFlow(qos: plan.qos, window: plan.window)
        self.batch = ByteBuffer()
        self.payload = ByteBuffer(repeating: 0x5A, count: plan.payloadBytes)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.batch = context.channel.allocator.buffer(capacity: 16 * 1024)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        self.connectStartedAt = .now()
        let connect = MQTTConnect(protocolVersion: self.plan.version, cleanStart: true, keepAlive: 0, clientIdentifier: self.plan.clientIdentifier)
        self.enqueue(.connect(connect))
        self.flush()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let packet = self.unwrapInboundIn(data)
        let output: BenchMQTTFlow.Output
        do {
            output = try self.flow.handle(packet)
        } catch {
            self.fail(error)
            return
        }
        if let reply = output.reply {
            self.enqueue(reply)
        }
        if let sentAt = output.completedSentAt {
            self.burstAcked += 1
            if self.plan.latency == .acknowledgement {
                self.recorder.recordSuccess(since: .uptimeNanoseconds(sentAt))
            }
        }
        if let delivered = output.delivered {
            self.burstReceived += 1
            self.burstReceivedBytes += delivered.payload.readableBytes
            if self.plan.latency == .endToEnd, let stamp = delivered.payload.getInteger(at: delivered.payload.readerIndex, as: UInt64.self) {
                self.recorder.recordSuccess(since: .uptimeNanoseconds(stamp))
            }
        }
        if output.connected {
            self.stats.connectionOpened()
            if case .subscriber(let filter) = self.plan.role {
                let subscribe = MQTTSubscribe(
                    packetIdentifier: self.flow.claimSubscribeIdentifier(),
                    subscriptions: [MQTTSubscription(topicFilter: filter, qos: self.plan.qos)]
                )
                self.enqueue(.subscribe(subscribe))
            } else {
                self.becomeReady()
            }
        }
        if output.subscribed {
            self.becomeReady()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.reportBurst()
        if self.publishing && self.plan.rate == 0 {
            self.pump()
        }
        self.checkDrained()
        self.flush()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable && self.publishing && self.plan.rate == 0 {
            self.pump()
            self.flush()
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let command = event as? Command else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch command {
        case .publish(let stopAt):
            self.startPublishing(stopAt: stopAt, context: context)
        case .disconnect:
            self.stopPublishing()
            self.closing = true
            self.enqueue(.disconnect(MQTTDisconnect()))
            self.flush()
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.reportBurst()
        self.stopPublishing()
        if self.isReady {
            self.stats.connectionClosed()
        }
        if !self.closing {
            self.closing = true
            self.report(BenchMQTTError.connectionLost)
        }
        self.ready.fail(BenchMQTTError.connectionLost)
        self.drained.succeed()
        context.fireChannelInactive()
    }

    // MARK: Publishing

    private func startPublishing(stopAt: NIODeadline, context: ChannelHandlerContext) {
        guard case .publisher = self.plan.role, !self.closing else {
            self.drained.succeed()
            return
        }
        self.publishing = true
        self.publishStarted = true
        self.publishStartedAt = .now()
        self.stopAt = stopAt
        if self.plan.rate > 0 {
            let interval = max(TimeAmount.milliseconds(1), .nanoseconds(1_000_000_000 / Int64(self.plan.rate)))
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            self.pacing = context.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { _ in
                loopBound.value.pump()
                loopBound.value.checkDrained()
                loopBound.value.flush()
            }
        } else {
            self.pump()
            self.flush()
        }
    }

    private func stopPublishing() {
        self.publishing = false
        self.pacing?.cancel()
        self.pacing = nil
    }

    /// Writes as many PUBLISHes as are due (paced) or as the window and the socket allow.
    private func pump() {
        guard self.publishing, let context = self.context, case .publisher(let topic) = self.plan.role else { return }
        let now = NIODeadline.now()
        guard now < self.stopAt else {
            self.stopPublishing()
            self.checkDrained()
            return
        }
        var budget = Self.maximumBatch
        if self.plan.rate > 0 {
            let elapsed = (now - self.publishStartedAt).nanoseconds
            let due = Int(elapsed * Int64(self.plan.rate) / 1_000_000_000) + 1 - self.published
            budget = min(budget, due)
        }
        var count = 0
        var bytes = 0
        while count < budget && self.flow.canSend && context.channel.isWritable {
            let stamp = NIODeadline.now().uptimeNanoseconds
            if self.plan.stampPayload {
                self.payload.setInteger(stamp, at: self.payload.readerIndex)
            }
            let identifier = self.flow.claimIdentifier(now: stamp)
            let publish = MQTTPublish(qos: self.plan.qos, topicName: topic, packetIdentifier: identifier, payload: self.payload)
            self.enqueue(.publish(publish))
            count += 1
            bytes += self.plan.payloadBytes
        }
        self.published += count
        self.stats.addSent(count, bytes: bytes)
        // Unpaced QoS 0 is limited only by the socket: continue on the next loop tick.
        if self.plan.rate == 0 && count == Self.maximumBatch && !self.pumpScheduled {
            self.pumpScheduled = true
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.execute {
                loopBound.value.pumpScheduled = false
                loopBound.value.pump()
                loopBound.value.flush()
            }
        }
    }

    private func checkDrained() {
        if self.publishStarted && !self.publishing && self.flow.inFlightCount == 0 {
            self.drained.succeed()
        }
    }

    // MARK: IO helpers

    private func reportBurst() {
        if self.burstReceived > 0 {
            self.stats.addReceived(self.burstReceived, bytes: self.burstReceivedBytes)
            self.burstReceived = 0
            self.burstReceivedBytes = 0
        }
        if self.burstAcked > 0 {
            self.stats.addAcked(self.burstAcked)
            self.burstAcked = 0
        }
    }

    private func becomeReady() {
        guard !self.isReady else { return }
        self.isReady = true
        if self.plan.latency == .connect {
            self.recorder.recordSuccess(since: self.connectStartedAt)
        }
        self.ready.succeed()
    }

    private func enqueue(_ packet: MQTTPacket) {
        do {
            try packet.encode(version: self.plan.version, into: &self.batch)
        } catch {
            self.fail(error)
        }
    }

    private func flush() {
        guard self.batch.readableBytes > 0, let context = self.context else { return }
        let buffer = self.batch
        self.batch = context.channel.allocator.buffer(capacity: Swift.max(16 * 1024, buffer.readableBytes))
        context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
    }

    private func fail(_ error: any Error) {
        guard !self.closing else { return }
        self.closing = true
        self.stopPublishing()
        self.report(error)
        self.ready.fail(error)
        self.context?.close(promise: nil)
    }

    private func report(_ error: any Error) {
        let message = "connection \(self.plan.index) (\(self.plan.clientIdentifier)): \(error)"
        if self.isReady {
            self.stats.recordError(message)
        } else {
            self.stats.connectFailed(message)
        }
    }
}
