import NIOCore

extension MQTTSession {
    /// A message from the broker: No Local, QoS downgrade, retain flag, then send or queue.
    mutating func deliver(_ delivery: MQTTDelivery, now: UInt64, into out: inout MQTTSessionActions) {
        if delivery.noLocal && delivery.publisherClientIdentifier == state.clientIdentifier {
            statistics.droppedNoLocal += 1
            return
        }
        let qos = min(delivery.qos, delivery.subscriptionQoS, configuration.maximumQoS)
        // MQTT-3.3.1-8/-9 (3.1.1), -12/-13 (5.0): RETAIN is 1 only for retained deliveries on
        // subscribe, unless the subscription asked for Retain As Published.
        let retain = delivery.isRetainedDelivery || (delivery.retainAsPublished && delivery.retain)
        var properties = MQTTProperties()
        if version == .v5 {
            properties = delivery.properties
            properties.topicAlias = nil
            properties.subscriptionIdentifiers = delivery.subscriptionIdentifiers
        }
        let message = Queued(
            topic: delivery.topic, payload: delivery.payload, qos: qos, retain: retain, properties: properties,
            receivedAt: delivery.receivedAt, journalPosition: delivery.journalPosition)
        if queue.isEmpty && (qos == .atMostOnce || inFlightCount < clientReceiveMaximum) {
            transmit(message, now: now, into: &out)
        } else {
            enqueue(message)
        }
    }

    /// Queues behind the window; when full drops the oldest QoS 0 message (queued or this one),
    /// otherwise the oldest queued message.
    private mutating func enqueue(_ message: Queued) {
        guard queue.count >= configuration.maximumQueuedMessages else {
            queue.append(message)
            return
        }
        statistics.droppedQueueFull += 1
        if let index = queue.firstIndex(where: { $0.qos == .atMostOnce }) {
            queue.remove(at: index)
        } else if message.qos == .atMostOnce || queue.isEmpty {
            return
        } else {
            queue.removeFirst()
        }
        queue.append(message)
    }

    /// Seconds of message expiry left at `now`: `nil` without expiry, 0 when expired.
    static func remainingExpiry(of message: Queued, now: UInt64) -> UInt32? {
        guard let interval = message.properties.messageExpiryInterval else { return nil }
        let elapsed = now > message.receivedAt ? (now - message.receivedAt) / 1_000_000_000 : 0
        return elapsed >= UInt64(interval) ? 0 : interval - UInt32(elapsed)
    }

    /// Sends queued messages while the window has room (QoS 0 needs none).
    mutating func drainQueue(now: UInt64, into out: inout MQTTSessionActions) {
        while let head = queue.first {
            if head.qos != .atMostOnce && inFlightCount >= clientReceiveMaximum { break }
            queue.removeFirst()
            transmit(head, now: now, into: &out)
        }
    }

    /// Sends one message: expiry, packet identifier, topic alias, maximum packet size.
    private mutating func transmit(_ message: Queued, now: UInt64, into out: inout MQTTSessionActions) {
        var properties = message.properties
        if let remaining = Self.remainingExpiry(of: message, now: now) {
            guard remaining > 0 else {
                statistics.droppedExpired += 1
                return
            }
            // MQTT-3.3.2-6: the forwarded expiry is what is left of it.
            properties.messageExpiryInterval = remaining
        }
        var publish = MQTTPublish(
            qos: message.qos, retain: message.retain, topicName: message.topic, properties: properties,
            payload: message.payload)
        let identifierCursor = state.nextPacketIdentifier
        if message.qos != .atMostOnce {
            guard let identifier = allocatePacketIdentifier() else {
                queue.insert(message, at: 0)
                return
            }
            publish.packetIdentifier = identifier
        }
        var wire = publish
        var newAlias: UInt16?
        if version == .v5 && clientTopicAliasMaximum > 0 {
            if let alias = outboundAliases[message.topic] {
                wire.topicName = ""
                wire.properties.topicAlias = alias
            } else if outboundAliases.count < Int(clientTopicAliasMaximum) {
                let alias = UInt16(outboundAliases.count + 1)
                wire.properties.topicAlias = alias
                newAlias = alias
            }
        }
        if let limit = clientMaximumPacketSize {
            // MQTT-3.1.2-27/-28: too large for the client → discard as if it had been sent.
            var scratch = ByteBuffer()
            do {
                try MQTTPacket.publish(wire).encode(version: version, into: &scratch, maximumPacketSize: limit)
            } catch {
                statistics.droppedTooLarge += 1
                state.nextPacketIdentifier = identifierCursor  // the identifier was never used
                return
            }
        }
        if let newAlias { outboundAliases[message.topic] = newAlias }
        if let identifier = publish.packetIdentifier {
            let phase: MQTTSessionState.OutboundPhase = message.qos == .atLeastOnce ? .awaitingPubAck : .awaitingPubRec
            state.inFlight[identifier] = MQTTSessionState.InFlight(publish: publish, phase: phase, sequence: state.nextSequence)
            state.nextSequence &+= 1
        }
        out.send(.publish(wire))
    }

    /// The next free outbound packet identifier, cycling through 1...65535.
    private mutating func allocatePacketIdentifier() -> UInt16? {
        var candidate = state.nextPacketIdentifier == 0 ? 1 : state.nextPacketIdentifier
        for _ in 0..<Int(UInt16.max) {
            let next: UInt16 = candidate == UInt16.max ? 1 : candidate + 1
            if state.inFlight[candidate] == nil {
                state.nextPacketIdentifier = next
                return candidate
            }
            candidate = next
        }
        return nil
    }

    /// PUBACK for an outbound QoS 1 message.
    mutating func receivePubAck(_ identifier: UInt16, now: UInt64, into out: inout MQTTSessionActions) {
        guard state.inFlight[identifier]?.phase == .awaitingPubAck else { return }
        state.inFlight[identifier] = nil
        drainQueue(now: now, into: &out)
    }

    /// PUBREC for an outbound QoS 2 message: PUBREL (MQTT-4.3.3-4), or the end of the flow on a
    /// failure code (MQTT-4.4.0-2).
    mutating func receivePubRec(_ identifier: UInt16, _ code: MQTTReasonCode, now: UInt64, into out: inout MQTTSessionActions) {
        guard let phase = state.inFlight[identifier]?.phase, phase != .awaitingPubAck else {
            let reason: MQTTReasonCode = version == .v5 ? .packetIdentifierNotFound : .success
            out.send(.pubrel(MQTTPubRel(packetIdentifier: identifier, reasonCode: reason)))
            return
        }
        if code.isFailure {
            state.inFlight[identifier] = nil
            drainQueue(now: now, into: &out)
            return
        }
        state.inFlight[identifier]?.phase = .awaitingPubComp
        out.send(.pubrel(MQTTPubRel(packetIdentifier: identifier)))
    }

    /// PUBCOMP: the outbound QoS 2 flow is complete.
    mutating func receivePubComp(_ identifier: UInt16, now: UInt64, into out: inout MQTTSessionActions) {
        guard state.inFlight[identifier]?.phase == .awaitingPubComp else { return }
        state.inFlight[identifier] = nil
        drainQueue(now: now, into: &out)
    }
}
