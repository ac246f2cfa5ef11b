import NIOCore

extension MQTTSession {
    /// CONNECT: validates, resumes or starts the session, answers CONNACK and retransmits.
    ///
    /// `authentication` is the method and server data of an enhanced authentication the driver
    /// completed; a CONNECT with an Authentication Method and no completed exchange is refused
    /// with 0x8C.
    mutating func handleConnect(
        _ connect: MQTTConnect, authentication: (method: String, data: ByteBuffer?)?, now: UInt64,
        into out: inout MQTTSessionActions
    ) {
        version = connect.protocolVersion
        let isV5 = version == .v5
        if let redirection = configuration.serverRedirection {
            // MQTT 5.0 §4.11: redirect with a Server Reference; 3.x has only "Server unavailable".
            out.send(.connack(redirection.connAck(for: version)))
            out.append(.close(nil))
            phase = .closed
            return
        }
        if isV5 && connect.properties.authenticationMethod != nil && authentication == nil {
            // Enhanced authentication is the driver's job (MQTT 5.0 §4.12); without it, refuse.
            refuse(.badAuthenticationMethod, into: &out)
            return
        }
        if let will = connect.will {
            // MQTT-3.2.2-12 / -13: a will the server cannot honour refuses the connection.
            if will.qos > configuration.maximumQoS {
                refuse(.qosNotSupported, into: &out)
                return
            }
            if will.retain && !configuration.retainAvailable {
                refuse(.retainNotSupported, into: &out)
                return
            }
        }
        var clientIdentifier = connect.clientIdentifier
        var assigned: String?
        if clientIdentifier.isEmpty {
            // MQTT-3.1.3-6/-8 (3.1.1): an empty identifier needs Clean Session; 5.0 assigns one.
            guard isV5 || (version == .v3_1_1 && connect.cleanStart) else {
                refuse(.clientIdentifierNotValid, into: &out)
                return
            }
            clientIdentifier = configuration.assignedClientIdentifierPrefix + String(connectionNumber)
            assigned = clientIdentifier
        }

        let requestedExpiry: UInt32 =
            isV5 ? connect.properties.sessionExpiryInterval ?? 0 : (connect.cleanStart ? 0 : UInt32.max)
        let expiry = isV5 ? min(requestedExpiry, configuration.maximumSessionExpiryInterval) : requestedExpiry
        connectSessionExpiryWasZero = requestedExpiry == 0

        var sessionPresent = false
        if let stored = storedState, stored.clientIdentifier == clientIdentifier {
            if connect.cleanStart {
                if !stored.subscriptions.isEmpty {
                    out.append(.unsubscribe(clientIdentifier: clientIdentifier, topicFilters: stored.subscriptions.keys.sorted()))
                }
            } else {
                state = stored
                sessionPresent = true
            }
        }
        storedState = nil
        if !sessionPresent { state = MQTTSessionState(clientIdentifier: clientIdentifier) }
        state.sessionExpiryInterval = expiry

        keepAlive = isV5 ? configuration.serverKeepAlive ?? connect.keepAlive : connect.keepAlive
        lastPacketAt = now
        will = connect.will
        clientReceiveMaximum = Int(connect.properties.receiveMaximum ?? UInt16.max)
        clientMaximumPacketSize = connect.properties.maximumPacketSize.map { Int($0) }
        clientTopicAliasMaximum = connect.properties.topicAliasMaximum ?? 0
        phase = .connected

        var properties = MQTTProperties()
        if isV5 {
            properties.assignedClientIdentifier = assigned
            properties.serverKeepAlive = configuration.serverKeepAlive
            if expiry != requestedExpiry { properties.sessionExpiryInterval = expiry }
            if configuration.receiveMaximum != UInt16.max { properties.receiveMaximum = configuration.receiveMaximum }
            properties.maximumPacketSize = configuration.maximumPacketSize
            if configuration.topicAliasMaximum > 0 { properties.topicAliasMaximum = configuration.topicAliasMaximum }
            if configuration.maximumQoS != .exactlyOnce { properties.maximumQoS = configuration.maximumQoS }
            if !configuration.retainAvailable { properties.retainAvailable = false }
            if let authentication {
                authenticationMethod = authentication.method
                properties.authenticationMethod = authentication.method
                properties.authenticationData = authentication.data
            }
            if connect.properties.requestResponseInformation == true {
                properties.responseInformation = configuration.responseInformation
            }
        }
        out.send(.connack(MQTTConnAck(sessionPresent: sessionPresent && version != .v3_1, properties: properties)))
        if sessionPresent { resume(into: &out) }
    }

    /// Re-registers the stored subscriptions and retransmits unacknowledged PUBLISH (DUP=1)
    /// and PUBREL in their original order (MQTT-4.4.0-1).
    private mutating func resume(into out: inout MQTTSessionActions) {
        if !state.subscriptions.isEmpty {
            let requests = state.subscriptions.keys.sorted().compactMap { filter -> MQTTSubscriptionRequest? in
                guard let stored = state.subscriptions[filter] else { return nil }
                return MQTTSubscriptionRequest(
                    subscription: stored.subscription, subscriptionIdentifier: stored.subscriptionIdentifier, isNew: false)
            }
            out.append(.subscribe(clientIdentifier: state.clientIdentifier, requests))
        }
        for message in state.inFlight.values.sorted(by: { $0.sequence < $1.sequence }) {
            guard let identifier = message.publish.packetIdentifier else { continue }
            switch message.phase {
            case .awaitingPubAck, .awaitingPubRec:
                var publish = message.publish
                publish.dup = true
                if version != .v5 { publish.properties = MQTTProperties() }
                out.send(.publish(publish))
            case .awaitingPubComp:
                out.send(.pubrel(MQTTPubRel(packetIdentifier: identifier)))
            }
        }
    }

    /// Answers CONNECT with a failure and closes (MQTT-3.2.2-6: no session present).
    private mutating func refuse(_ reason: MQTTReasonCode, into out: inout MQTTSessionActions) {
        if version == .v5 || MQTTConnectReturnCode(reasonCode: reason) != nil {
            out.send(.connack(MQTTConnAck(sessionPresent: false, reasonCode: reason)))
        }
        out.append(.close(nil))
        phase = .closed
    }

    /// DISCONNECT from the client: session expiry update rules, will with 0x04.
    mutating func receiveDisconnect(_ disconnect: MQTTDisconnect, into out: inout MQTTSessionActions) {
        if version == .v5, let expiry = disconnect.properties.sessionExpiryInterval {
            // §3.14.2.2.2: a non-zero expiry after CONNECT had zero is a Protocol Error.
            if connectSessionExpiryWasZero && expiry != 0 {
                close(.protocolError, publishWill: true, into: &out)
                return
            }
            state.sessionExpiryInterval = min(expiry, configuration.maximumSessionExpiryInterval)
        }
        // MQTT-3.14.4-3 / MQTT-3.1.2-8: only a normal DISCONNECT (0x00) deletes the will; 0x04 and
        // the error codes leave it to be published.
        let publishWill = version == .v5 && disconnect.reasonCode != .normalDisconnection
        out.append(.close(nil))
        endSession(publishWill: publishWill, into: &out)
    }
}
