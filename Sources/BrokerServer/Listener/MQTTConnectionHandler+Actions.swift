import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

extension MQTTConnectionHandler {
    /// Feeds one event to the session and performs its actions; flushes once at the end unless
    /// `flush` is false (the caller flushes after a batch).
    func handle(_ event: MQTTSessionEvent, now: UInt64 = MQTTBroker.monotonicNow(), flush: Bool = true) {
        // Moved out while it runs, so that its collections are not copied on write.
        guard var session = self.session else { return }
        self.session = nil
        var denied: [Int: MQTTReasonCode] = [:]
        if case .packetReceived(.subscribe(let subscribe)) = event {
            denied = subscriptionRefusals(subscribe, session: session)
        }
        var actions = session.handle(event, now: now)
        if !denied.isEmpty, case .packetReceived(.subscribe(let subscribe)) = event {
            actions = refuseSubscriptions(subscribe, denied: denied, actions: actions, session: &session)
        }
        self.session = session
        countDrops(session.statistics)
        perform(actions)
        if flush { flushIfNeeded() }
    }

    /// Performs the session's actions in order; a `close` takes effect after the rest (the
    /// will and the session's persistence follow it in the list).
    func perform(_ actions: [MQTTSessionAction]) {
        var closing = false
        defer { if closing { closeChannel() } }
        for action in actions {
            switch action {
            case .send(let packets):
                send(packets)
            case .close(let disconnect):
                if var disconnect {
                    // A Reason String makes the packet longer than reason code + property length:
                    // paho-mqtt 2.1 reads the reason code only from such DISCONNECTs.
                    if disconnect.reasonCode != .normalDisconnection && disconnect.properties.isEmpty {
                        disconnect.properties.reasonString = String(describing: disconnect.reasonCode)
                    }
                    send([.disconnect(disconnect)])
                }
                closing = true
            case .publish(let message):
                publish(message)
            case .subscribe(let clientIdentifier, let requests):
                let (routed, sentThrough) = broker.subscribe(clientIdentifier: clientIdentifier, requests, from: ref)
                if resuming {
                    startReplays(routed: routed)
                } else {
                    advanceCursors(to: routed, sentThrough: sentThrough)
                }
            case .unsubscribe(let clientIdentifier, let filters):
                broker.unsubscribe(clientIdentifier: clientIdentifier, topicFilters: filters)
            case .deliverRetained(_, let request):
                let now = MQTTBroker.monotonicNow()
                for delivery in broker.retainedDeliveries(for: request) {
                    handle(.deliver(delivery), now: now, flush: false)
                }
            case .publishWill(let clientIdentifier, let will, let delay):
                broker.publishWill(clientIdentifier: clientIdentifier, userName: userName, will: will, delay: delay, from: ref)
            case .persist(let state):
                endedSession = true
                guard let ref else { continue }
                broker.persist(
                    MQTTStoredSession(state: state, cursors: replayCursors(), disconnectedAtMillis: MQTTBroker.nowMillis()),
                    from: ref)
            case .authenticate(let auth):
                reauthenticate(auth)
            case .discard(let clientIdentifier):
                endedSession = true
                guard let ref else { continue }
                broker.discard(clientIdentifier, from: ref)
            }
        }
    }

    /// Per shard, where a resume must replay from: the oldest message still queued in the
    /// session, else the first offset not yet handed to it (a shard still replaying stays at
    /// its replay position).
    func replayCursors() -> [Int64] {
        var result = cursors
        for position in session?.queuedJournalPositions ?? [] where position.shard < result.count {
            result[position.shard] = min(result[position.shard], position.offset)
        }
        return result
    }

    /// New subscriptions are in the index since `routed`: a later replay must not start before
    /// it, or it would deliver messages published before the subscription. A shard's cursor moves
    /// up only when every batch handed to this connection has been fed (nothing still on its way
    /// that the older cursor covers).
    private func advanceCursors(to routed: [Int64], sentThrough: [Int: Int64]) {
        for shard in routed.indices where shard < cursors.count && replays[shard] == nil {
            if let sent = sentThrough[shard], cursors[shard] <= sent { continue }
            cursors[shard] = max(cursors[shard], routed[shard])
        }
    }

    /// A resumed session's subscriptions are in the index since `routed`: replay each shard
    /// from the stored cursor up to there.
    private func startReplays(routed: [Int64]) {
        guard let ref, let session else { return }
        let subscriptions = Array(session.state.subscriptions.values)
        for shard in routed.indices where shard < cursors.count && cursors[shard] < routed[shard] {
            guard replays[shard] == nil else { continue }
            replays[shard] = Replay(end: routed[shard])
            broker.replay(
                shard: shard, from: cursors[shard], to: routed[shard], clientIdentifier: session.clientIdentifier,
                subscriptions: subscriptions, on: ref)
        }
    }

    private func publish(_ message: MQTTInboundMessage) {
        guard let context, authorizePublish(message) else { return }
        let persisted = broker.publish(message, userName: userName, on: context.eventLoop)
        // Back-pressure: QoS 0 has no window, so a client with too many appends outstanding is
        // not read from until the journal catches up.
        outstandingAppends += 1
        if outstandingAppends >= Self.maximumOutstandingAppends { setReading(false) }
        let identifier = message.packetIdentifier
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        persisted.hop(to: context.eventLoop).whenSuccess { code in
            let handler = bound.value
            handler.outstandingAppends -= 1
            if handler.outstandingAppends <= Self.maximumOutstandingAppends / 2 { handler.setReading(true) }
            if let identifier {
                handler.handle(.publishPersisted(packetIdentifier: identifier, reasonCode: code))
            }
        }
    }

    /// Pauses or resumes reading from the client.
    private func setReading(_ on: Bool) {
        guard let context, readingPaused == on else { return }
        readingPaused = !on
        try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: on)
    }

    /// Rewrites the actions of a SUBSCRIBE so that the refused filters get their reason code
    /// (0x87 not authorized, 0x97 quota exceeded; 0x80 in 3.1.1) in the SUBACK and are neither
    /// subscribed nor sent retained messages.
    private func refuseSubscriptions(
        _ subscribe: MQTTSubscribe, denied: [Int: MQTTReasonCode], actions: [MQTTSessionAction], session: inout MQTTSession
    ) -> [MQTTSessionAction] {
        let deniedFilters = Set(denied.keys.map { subscribe.subscriptions[$0].topicFilter })
        for filter in deniedFilters { session.state.subscriptions[filter] = nil }
        let isV5 = session.version == .v5
        return actions.compactMap { action -> MQTTSessionAction? in
            switch action {
            case .subscribe(let clientIdentifier, let requests):
                let allowed = requests.filter { !deniedFilters.contains($0.subscription.topicFilter) }
                return allowed.isEmpty ? nil : .subscribe(clientIdentifier: clientIdentifier, allowed)
            case .deliverRetained(_, let request):
                return deniedFilters.contains(request.subscription.topicFilter) ? nil : action
            case .send(let packets):
                return .send(packets.map { packet in
                    guard case .suback(var suback) = packet, suback.packetIdentifier == subscribe.packetIdentifier else { return packet }
                    for (index, code) in denied where index < suback.reasonCodes.count {
                        suback.reasonCodes[index] = isV5 ? code : .unspecifiedError
                    }
                    return .suback(suback)
                })
            default:
                return action
            }
        }
    }

    // MARK: Writing

    /// Encodes packets for the session's version into one buffer and writes it (no flush).
    func send(_ packets: [MQTTPacket]) {
        guard let context, context.channel.isActive else { return }
        let version = session?.version ?? .v5
        var buffer = context.channel.allocator.buffer(capacity: 256)
        var publishes = 0
        for packet in packets {
            do {
                try packet.encode(version: version, into: &buffer)
                if case .publish = packet { publishes += 1 }
            } catch {
                broker.logger.warning("mqtt packet not encodable", metadata: ["type": "\(packet.type)", "error": "\(error)"])
            }
        }
        guard buffer.readableBytes > 0 else { return }
        broker.count(sent: publishes, bytesOut: buffer.readableBytes)
        context.write(wrapOutboundOut(buffer), promise: nil)
        needsFlush = true
    }

    /// Writes one packet outside a session (refused CONNECT) and flushes.
    func write(_ packet: MQTTPacket, version: MQTTProtocolVersion) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 16)
        guard (try? packet.encode(version: version, into: &buffer)) != nil else { return }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    func flushIfNeeded() {
        guard needsFlush, let context else { return }
        needsFlush = false
        context.flush()
    }

    /// Reports the session's new drops to the broker's metrics.
    private func countDrops(_ current: MQTTSession.Statistics) {
        let metrics = broker.metrics
        if current.droppedQueueFull > statistics.droppedQueueFull {
            metrics.droppedQueueFull.increment(by: Int64(current.droppedQueueFull - statistics.droppedQueueFull))
        }
        if current.droppedExpired > statistics.droppedExpired {
            metrics.droppedExpired.increment(by: Int64(current.droppedExpired - statistics.droppedExpired))
        }
        if current.droppedTooLarge > statistics.droppedTooLarge {
            metrics.droppedTooLarge.increment(by: Int64(current.droppedTooLarge - statistics.droppedTooLarge))
        }
        statistics = current
    }
}
