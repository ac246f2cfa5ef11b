import Logging
import Metrics
import NIOCore
import Shared

/// The connection's side of the ``MQTTAccessControl``: admission at CONNECT (connection rate,
/// bans, flapping), the will's ACL check, PUBLISH and SUBSCRIBE authorization with the full
/// context (user, client id, peer address, QoS, retain), the message rate, the subscription
/// quota, and disconnecting a client that becomes banned.
extension MQTTConnectionHandler {
    /// The broker's access control, when it has one.
    var accessControl: MQTTAccessControl? { broker.authorizer as? MQTTAccessControl }

    /// The peer's IP address, if the channel has one.
    var peerAddress: IPAddress? {
        context?.channel.remoteAddress?.ipAddress.flatMap { IPAddress($0) }
    }

    /// Before authentication: the refusal for a CONNECT over the connection rate (0x9F; 3.1.1
    /// gets return code 3), from a banned client id / user / address or a flapping client (0x8A;
    /// 3.1.1 gets return code 5), or `nil` to go on.
    func admissionRefusal(_ connect: MQTTConnect) -> MQTTReasonCode? {
        guard let control = accessControl else { return nil }
        let peer = peerAddress
        guard let refusal = control.admitConnect(clientID: connect.clientIdentifier, username: connect.userName, peer: peer) else {
            return nil
        }
        var fields = ["client_id": connect.clientIdentifier, "reason": String(describing: refusal)]
        if let user = connect.userName { fields["user"] = user }
        if let peer { fields["peer"] = peer.description }
        control.audit?.record("connect.refused", fields)
        if connect.protocolVersion != .v5 && refusal == .connectionRateExceeded { return .serverUnavailable }
        return refusal
    }

    /// After authentication: sets up the connection's access state from the authenticated
    /// identity (user, tenant, super user, token rules); refuses (0x87) a will whose topic the
    /// ACL does not allow.
    func setUpAccess(_ connect: MQTTConnect, clientIdentifier: String) -> MQTTReasonCode? {
        guard let control = accessControl else { return nil }
        var access = MQTTConnectionAccess(
            control: control, tenant: authContext?.tenant ?? "default", username: authContext?.userName ?? connect.userName,
            isSuperuser: authContext?.isSuperuser ?? false, clientID: clientIdentifier, peer: peerAddress,
            now: MQTTBroker.monotonicNow())
        access.setTokenRules(authContext?.jwtACL ?? [])
        if let will = connect.will, !access.allows(.publish, topic: will.topic, qos: will.qos.rawValue, retain: will.retain) {
            control.deniedPublishes.increment()
            return .notAuthorized
        }
        self.access = access
        return nil
    }

    /// The connection re-authenticated: its ACL identity follows (cached decisions dropped).
    func reidentifyAccess() {
        guard var access, let authContext else { return }
        access.reidentify(
            tenant: authContext.tenant, username: authContext.userName, isSuperuser: authContext.isSuperuser,
            tokenRules: authContext.jwtACL)
        self.access = access
    }

    /// Records an authentication refusal in the audit log.
    func auditAuthenticationFailure(_ connect: MQTTConnect, reason: MQTTReasonCode) {
        accessControl?.audit?.recordAuthenticationFailure(
            clientID: connect.clientIdentifier, user: connect.userName, peer: peerAddress?.description,
            reason: String(describing: reason))
    }

    /// A ban changed: a connected client that is now banned is disconnected (5.0: DISCONNECT
    /// 0x98 Administrative action — 0x8A Banned is a CONNACK-only code, MQTT 5.0 §3.14.2.1; its
    /// reconnect then gets CONNACK 0x8A).
    func recheckBan() {
        guard phase == .active, session?.phase == .connected, let control = accessControl, let access else { return }
        guard control.ban(clientID: access.clientID, username: access.username, peer: access.peer) != nil else { return }
        var fields = ["client_id": access.clientID]
        if let user = access.username { fields["user"] = user }
        control.audit?.record("blacklist.disconnect", fields)
        disconnect(reason: .administrativeAction)
    }

    /// Sends a 5.0 DISCONNECT with `reason` (3.x: nothing) and closes; the session ends as for
    /// a lost connection (will, persistence).
    ///
    /// The connection is half-closed first and what the client still sends is discarded until it
    /// closes (at most a second): closing with unread input would reset the connection, and a
    /// client that is still publishing would lose the DISCONNECT and its reason code.
    func disconnect(reason: MQTTReasonCode) {
        guard let context, !draining else { return }
        if session?.version == .v5 {
            var properties = MQTTProperties()
            properties.reasonString = String(describing: reason)
            send([.disconnect(MQTTDisconnect(reasonCode: reason, properties: properties))])
        }
        flushIfNeeded()
        draining = true
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let halfClosed = context.eventLoop.makePromise(of: Void.self)
        halfClosed.futureResult.whenFailure { _ in bound.value.closeChannel() }
        context.close(mode: .output, promise: halfClosed)
        context.eventLoop.scheduleTask(in: .seconds(1)) { bound.value.closeChannel() }
    }

    /// A PUBLISH arrived: whether it fits the client's message rate. Over the rate the client
    /// is disconnected (5.0: 0x96 Message rate too high) and `false` returned.
    func admitPublishPacket() -> Bool {
        guard access != nil else { return true }
        if access?.admitPublish(now: MQTTBroker.monotonicNow()) == false {
            broker.logger.info("mqtt client over its message rate; disconnected", metadata: ["client": "\(access?.clientID ?? "")"])
            disconnect(reason: .messageRateTooHigh)
            return false
        }
        return true
    }

    /// Whether `message` may go to the broker. A denied message is dropped: 5.0 QoS 1/2 gets
    /// 0x87 in PUBACK/PUBREC; a 3.1.1 client is disconnected or, with
    /// `auth.acl.v3-publish-denied: ignore`, acknowledged.
    func authorizePublish(_ message: MQTTInboundMessage) -> Bool {
        guard var access, let control = accessControl else { return true }
        let allowed = access.allows(.publish, topic: message.topic, qos: message.qos.rawValue, retain: message.retain)
        self.access = access
        if allowed { return true }
        control.deniedPublishes.increment()
        broker.metrics.droppedNotAuthorized.increment()
        let version = session?.version ?? .v5
        if version != .v5 && control.configuration.v3PublishDeniedDisconnects {
            closeChannel()
        } else if let identifier = message.packetIdentifier {
            handle(.publishPersisted(packetIdentifier: identifier, reasonCode: version == .v5 ? .notAuthorized : .success))
        }
        return false
    }

    /// The SUBSCRIBE filters to refuse, by index, with their reason: 0x87 where the ACL denies,
    /// 0x97 beyond the subscription quota (the caller writes 0x80 for 3.1.1).
    func subscriptionRefusals(_ subscribe: MQTTSubscribe, session: MQTTSession) -> [Int: MQTTReasonCode] {
        var refusals: [Int: MQTTReasonCode] = [:]
        guard var access, let control = accessControl else {
            for (index, subscription) in subscribe.subscriptions.enumerated()
            where !broker.authorizer.maySubscribe(
                clientIdentifier: session.clientIdentifier, userName: userName, filter: subscription.topicFilter) {
                refusals[index] = .notAuthorized
            }
            return refusals
        }
        let maximum = control.configuration.maximumSubscriptions
        var held = Set(session.state.subscriptions.keys)
        for (index, subscription) in subscribe.subscriptions.enumerated() {
            guard access.allows(.subscribe, topic: subscription.topicFilter, qos: subscription.qos.rawValue) else {
                control.deniedSubscriptions.increment()
                refusals[index] = .notAuthorized
                continue
            }
            guard maximum > 0, !held.contains(subscription.topicFilter) else { continue }
            if held.count >= maximum {
                refusals[index] = .quotaExceeded
            } else {
                held.insert(subscription.topicFilter)
            }
        }
        self.access = access
        return refusals
    }
}
