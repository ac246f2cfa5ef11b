extension MQTTSession {
    /// An inbound PUBLISH: topic alias, capability checks, receive maximum, QoS 2 duplicates.
    mutating func receivePublish(_ publish: MQTTPublish, into out: inout MQTTSessionActions) {
        var topic = publish.topicName
        var properties = publish.properties
        if let alias = properties.topicAlias {
            // §3.3.2.3.4 / MQTT-3.3.2-12: 0 or above our Topic Alias Maximum is Topic Alias invalid (0x94).
            guard version == .v5, alias >= 1, alias <= configuration.topicAliasMaximum else {
                close(.topicAliasInvalid, publishWill: true, into: &out)
                return
            }
            if topic.isEmpty {
                guard let mapped = inboundAliases[alias] else {
                    // An alias with no mapping for an empty topic name: Protocol Error (§3.3.2.3.4).
                    close(.protocolError, publishWill: true, into: &out)
                    return
                }
                topic = mapped
            } else {
                inboundAliases[alias] = topic
            }
            properties.topicAlias = nil
        }
        if publish.qos > configuration.maximumQoS {
            close(.qosNotSupported, publishWill: true, into: &out)
            return
        }
        if publish.retain && !configuration.retainAvailable {
            close(.retainNotSupported, publishWill: true, into: &out)
            return
        }
        var message = MQTTInboundMessage(
            clientIdentifier: state.clientIdentifier, topic: topic, payload: publish.payload, qos: publish.qos,
            retain: publish.retain, packetIdentifier: nil, properties: properties)
        guard publish.qos != .atMostOnce else {
            out.append(.publish(message))
            return
        }
        guard let identifier = publish.packetIdentifier else {
            close(.protocolError, publishWill: true, into: &out)
            return
        }
        if publish.qos == .exactlyOnce && state.pendingInboundQoS2.contains(identifier) {
            // Already persisted and PUBREC sent: acknowledge again, do not deliver twice.
            out.send(.pubrec(MQTTPubRec(packetIdentifier: identifier)))
            return
        }
        if inboundAwaitingPersist[identifier] != nil {
            // A retransmission while the first copy is being persisted; its ack will follow.
            return
        }
        if inboundAwaitingPersist.count + state.pendingInboundQoS2.count >= Int(configuration.receiveMaximum) {
            // MQTT-3.3.4-7 (5.0): more than Receive Maximum unacknowledged QoS 1/2 → 0x93 (§3.3.4).
            close(.receiveMaximumExceeded, publishWill: true, into: &out)
            return
        }
        inboundAwaitingPersist[identifier] = publish.qos
        message.packetIdentifier = identifier
        out.append(.publish(message))
    }

    /// The broker persisted an inbound QoS 1/2 message: PUBACK, or PUBREC and await PUBREL.
    mutating func publishPersisted(_ identifier: UInt16, _ code: MQTTReasonCode, into out: inout MQTTSessionActions) {
        guard let qos = inboundAwaitingPersist.removeValue(forKey: identifier) else { return }
        if code.isFailure && version != .v5 {
            // 3.1.1 cannot refuse a PUBLISH: closing makes the client retry on another connection.
            close(.unspecifiedError, publishWill: true, into: &out)
            return
        }
        let type: MQTTPacketType = qos == .atLeastOnce ? .puback : .pubrec
        let reason = code.isAllowed(in: type) ? code : .implementationSpecificError
        let wireReason = version == .v5 ? reason : .success
        if qos == .atLeastOnce {
            out.send(.puback(MQTTPubAck(packetIdentifier: identifier, reasonCode: wireReason)))
        } else {
            out.send(.pubrec(MQTTPubRec(packetIdentifier: identifier, reasonCode: wireReason)))
            if !reason.isFailure { state.pendingInboundQoS2.insert(identifier) }
        }
    }

    /// PUBREL: completes an inbound QoS 2 flow (MQTT-4.3.3-11/-12).
    mutating func receivePubRel(_ identifier: UInt16, into out: inout MQTTSessionActions) {
        let known = state.pendingInboundQoS2.remove(identifier) != nil
        let reason: MQTTReasonCode = known || version != .v5 ? .success : .packetIdentifierNotFound
        out.send(.pubcomp(MQTTPubComp(packetIdentifier: identifier, reasonCode: reason)))
    }

    /// SUBSCRIBE: grants, records, answers SUBACK, then asks for retained messages.
    mutating func receiveSubscribe(_ subscribe: MQTTSubscribe, into out: inout MQTTSessionActions) {
        let identifier = version == .v5 ? subscribe.properties.subscriptionIdentifiers.first : nil
        var requests: [MQTTSubscriptionRequest] = []
        var codes: [MQTTReasonCode] = []
        for requested in subscribe.subscriptions {
            guard SubscriptionIndex.placement(of: requested.topicFilter) != nil else {
                codes.append(version == .v5 ? .topicFilterInvalid : .unspecifiedError)
                continue
            }
            var granted = requested
            granted.qos = min(requested.qos, configuration.maximumQoS)
            let isNew = state.subscriptions[requested.topicFilter] == nil
            state.subscriptions[requested.topicFilter] = MQTTSessionState.Subscription(
                subscription: granted, subscriptionIdentifier: identifier)
            requests.append(MQTTSubscriptionRequest(subscription: granted, subscriptionIdentifier: identifier, isNew: isNew))
            codes.append(.granted(granted.qos))
        }
        if !requests.isEmpty { out.append(.subscribe(clientIdentifier: state.clientIdentifier, requests)) }
        out.send(.suback(MQTTSubAck(packetIdentifier: subscribe.packetIdentifier, reasonCodes: codes)))
        for request in requests {
            // Retained messages are not sent for shared subscriptions (MQTT 5.0 §4.8.2).
            guard case .plain? = SubscriptionIndex.placement(of: request.subscription.topicFilter) else { continue }
            switch request.subscription.retainHandling {
            case .sendOnSubscribe: break
            case .sendOnNewSubscribe: guard request.isNew else { continue }
            case .doNotSend: continue
            }
            out.append(.deliverRetained(clientIdentifier: state.clientIdentifier, request))
        }
    }

    /// UNSUBSCRIBE: removes, answers UNSUBACK (v5 codes: Success or No subscription existed).
    mutating func receiveUnsubscribe(_ unsubscribe: MQTTUnsubscribe, into out: inout MQTTSessionActions) {
        var removed: [String] = []
        var codes: [MQTTReasonCode] = []
        for filter in unsubscribe.topicFilters {
            if state.subscriptions.removeValue(forKey: filter) != nil {
                removed.append(filter)
                codes.append(.success)
            } else {
                codes.append(.noSubscriptionExisted)
            }
        }
        if !removed.isEmpty { out.append(.unsubscribe(clientIdentifier: state.clientIdentifier, topicFilters: removed)) }
        out.send(.unsuback(MQTTUnsubAck(packetIdentifier: unsubscribe.packetIdentifier, reasonCodes: version == .v5 ? codes : [])))
    }
}
