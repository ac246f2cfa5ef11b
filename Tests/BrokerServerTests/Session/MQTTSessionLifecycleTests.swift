import NIOCore
import Testing

@testable import BrokerServer

/// Keep alive, subscriptions, DISCONNECT, will, takeover.
@Suite("MQTT session: lifecycle and subscriptions")
struct MQTTSessionLifecycleTests {
    typealias F = SessionFixtures

    static let will = MQTTWill(
        topic: "clients/gone", payload: ByteBuffer(string: "bye"), qos: .atLeastOnce,
        properties: SessionFixtures.v5Properties { $0.willDelayInterval = 30 })

    @Test("Keep alive: closed after 1.5 × keep alive without packets (v5 0x8D), will published", arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func keepAliveTimeout(version: MQTTProtocolVersion) {
        var harness = SessionHarness()
        let properties = version == .v5 ? F.v5Properties { $0.sessionExpiryInterval = 10 } : MQTTProperties()
        let will = version == .v5 ? Self.will : MQTTWill(topic: "clients/gone", payload: ByteBuffer(string: "bye"), qos: .atLeastOnce)
        harness.connect(F.connect(version, clean: version == .v5, keepAlive: 10, will: will, properties: properties))
        harness.advance(seconds: 10)
        #expect(harness.receive(.pingreq) == [.send([.pingresp])])
        harness.advance(seconds: 14.9)
        #expect(harness.handle(.keepAliveTick).isEmpty)
        harness.advance(seconds: 0.1)
        let actions = harness.handle(.keepAliveTick)
        // v5: will delay 30 capped by the session expiry 10; 3.1.1 has no will delay.
        let delay: UInt32 = version == .v5 ? 10 : 0
        let expectedClose: MQTTSessionAction = .close(version == .v5 ? MQTTDisconnect(reasonCode: .keepAliveTimeout) : nil)
        let expiry: UInt32 = version == .v5 ? 10 : UInt32.max
        #expect(actions == [
            expectedClose,
            .publishWill(clientIdentifier: "client", will: will, delay: delay),
            .persist(MQTTSessionState(clientIdentifier: "client", sessionExpiryInterval: expiry)),
        ])
        #expect(harness.handle(.keepAliveTick).isEmpty)
    }

    @Test("Keep alive 0 never times out")
    func keepAliveDisabled() {
        var harness = SessionHarness()
        harness.connect(F.connect(.v5, keepAlive: 0))
        harness.advance(seconds: 100_000)
        #expect(harness.handle(.keepAliveTick).isEmpty)
    }

    @Test("SUBSCRIBE: index update, SUBACK with granted QoS, retained messages per Retain Handling")
    func subscribe() {
        var harness = SessionHarness(MQTTSessionConfiguration(maximumQoS: .atLeastOnce))
        harness.connect(F.connect(.v5))
        let subscriptions = [
            MQTTSubscription(topicFilter: "a/#", qos: .exactlyOnce, retainHandling: .sendOnSubscribe),
            MQTTSubscription(topicFilter: "b", qos: .atMostOnce, retainHandling: .sendOnNewSubscribe),
            MQTTSubscription(topicFilter: "c", qos: .atLeastOnce, retainHandling: .doNotSend),
            MQTTSubscription(topicFilter: "$share/g/d", qos: .atLeastOnce),
        ]
        let properties = F.v5Properties { $0.subscriptionIdentifiers = [12] }
        let actions = harness.receive(.subscribe(MQTTSubscribe(packetIdentifier: 5, properties: properties, subscriptions: subscriptions)))
        var granted = subscriptions
        granted[0].qos = .atLeastOnce
        let requests = granted.map { MQTTSubscriptionRequest(subscription: $0, subscriptionIdentifier: 12, isNew: true) }
        #expect(actions == [
            .subscribe(clientIdentifier: "client", requests),
            .send([.suback(MQTTSubAck(packetIdentifier: 5, reasonCodes: [.grantedQoS1, .grantedQoS0, .grantedQoS1, .grantedQoS1]))]),
            .deliverRetained(clientIdentifier: "client", requests[0]),
            .deliverRetained(clientIdentifier: "client", requests[1]),
        ])
        // Subscribing again: Retain Handling 1 sends nothing for an existing subscription.
        let again = harness.receive(.subscribe(MQTTSubscribe(packetIdentifier: 6, subscriptions: [subscriptions[1]])))
        let repeated = MQTTSubscriptionRequest(subscription: subscriptions[1], isNew: false)
        #expect(again == [
            .subscribe(clientIdentifier: "client", [repeated]),
            .send([.suback(MQTTSubAck(packetIdentifier: 6, reasonCodes: [.grantedQoS0]))]),
        ])
        #expect(harness.session.state.subscriptions.count == 4)
    }

    @Test("3.1.1 SUBSCRIBE always asks for retained messages")
    func subscribeV311() {
        var harness = SessionHarness()
        harness.connect(F.connect(.v3_1_1))
        let subscription = MQTTSubscription(topicFilter: "a", qos: .exactlyOnce)
        let request = MQTTSubscriptionRequest(subscription: subscription, isNew: false)
        _ = harness.receive(.subscribe(MQTTSubscribe(packetIdentifier: 1, subscriptions: [subscription])))
        let actions = harness.receive(.subscribe(MQTTSubscribe(packetIdentifier: 2, subscriptions: [subscription])))
        #expect(actions == [
            .subscribe(clientIdentifier: "client", [request]),
            .send([.suback(MQTTSubAck(packetIdentifier: 2, reasonCodes: [.grantedQoS2]))]),
            .deliverRetained(clientIdentifier: "client", request),
        ])
    }

    @Test("UNSUBSCRIBE: v5 codes Success / No subscription existed; 3.1.1 plain UNSUBACK", arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func unsubscribe(version: MQTTProtocolVersion) {
        var harness = SessionHarness()
        harness.connect(F.connect(version))
        _ = harness.receive(.subscribe(MQTTSubscribe(packetIdentifier: 1, subscriptions: [MQTTSubscription(topicFilter: "a")])))
        let actions = harness.receive(.unsubscribe(MQTTUnsubscribe(packetIdentifier: 2, topicFilters: ["a", "b"])))
        let codes: [MQTTReasonCode] = version == .v5 ? [.success, .noSubscriptionExisted] : []
        #expect(actions == [
            .unsubscribe(clientIdentifier: "client", topicFilters: ["a"]),
            .send([.unsuback(MQTTUnsubAck(packetIdentifier: 2, reasonCodes: codes))]),
        ])
        #expect(harness.session.state.subscriptions.isEmpty)
    }

    @Test("Normal DISCONNECT discards the will; session expiry 0 discards the session")
    func normalDisconnect() {
        var harness = SessionHarness()
        harness.connect(F.connect(.v5, will: Self.will))
        #expect(harness.receive(.disconnect(MQTTDisconnect())) == [.close(nil), .discard(clientIdentifier: "client")])
        #expect(harness.handle(.connectionClosed).isEmpty)
    }

    @Test("A client DISCONNECT with an error code keeps the will (MQTT-3.1.2-8)")
    func disconnectWithError() {
        var harness = SessionHarness()
        harness.connect(F.connect(.v5, will: Self.will))
        let actions = harness.receive(.disconnect(MQTTDisconnect(reasonCode: .unspecifiedError)))
        #expect(actions == [.close(nil), .publishWill(clientIdentifier: "client", will: Self.will, delay: 0), .discard(clientIdentifier: "client")])
    }

    @Test("3.1.1 DISCONNECT deletes the will; a lost connection publishes it")
    func v311Will() {
        let will = MQTTWill(topic: "w", payload: ByteBuffer(string: "bye"))
        var normal = SessionHarness()
        normal.connect(F.connect(.v3_1_1, will: will))
        #expect(normal.receive(.disconnect(MQTTDisconnect())) == [.close(nil), .discard(clientIdentifier: "client")])
        var lost = SessionHarness()
        lost.connect(F.connect(.v3_1_1, will: will))
        #expect(lost.handle(.connectionClosed) == [.publishWill(clientIdentifier: "client", will: will, delay: 0), .discard(clientIdentifier: "client")])
    }

    @Test("DISCONNECT 0x04 publishes the will; an updated session expiry is kept")
    func disconnectWithWill() {
        var harness = SessionHarness()
        harness.connect(F.connect(.v5, will: Self.will, properties: F.v5Properties { $0.sessionExpiryInterval = 5 }))
        let disconnect = MQTTDisconnect(reasonCode: .disconnectWithWillMessage, properties: F.v5Properties { $0.sessionExpiryInterval = 60 })
        let actions = harness.receive(.disconnect(disconnect))
        var state = MQTTSessionState(clientIdentifier: "client", sessionExpiryInterval: 60)
        state.nextPacketIdentifier = 1
        #expect(actions == [
            .close(nil),
            .publishWill(clientIdentifier: "client", will: Self.will, delay: 30),
            .persist(state),
        ])
    }

    @Test("DISCONNECT setting a session expiry after CONNECT had 0 is a Protocol Error (0x82)")
    func disconnectExpiryProtocolError() {
        var harness = SessionHarness()
        harness.connect(F.connect(.v5))
        let disconnect = MQTTDisconnect(properties: F.v5Properties { $0.sessionExpiryInterval = 60 })
        #expect(harness.receive(.disconnect(disconnect)) == [.close(MQTTDisconnect(reasonCode: .protocolError)), .discard(clientIdentifier: "client")])
    }

    @Test("Session takeover: DISCONNECT 0x8E, will, state persisted for the new connection")
    func takeover() {
        var harness = SessionHarness()
        harness.connect(F.connect(.v5, properties: F.v5Properties { $0.sessionExpiryInterval = 100 }))
        _ = harness.handle(.deliver(F.delivery()))
        let actions = harness.handle(.sessionTakenOver)
        #expect(actions.count == 2)
        #expect(actions.first == .close(MQTTDisconnect(reasonCode: .sessionTakenOver)))
        guard case .persist(let state)? = actions.last else {
            Issue.record("expected persist, got \(actions)")
            return
        }
        #expect(state.inFlight.keys.sorted() == [1])
        #expect(state.sessionExpiryInterval == 100)
    }

    @Test("Connection lost: will published (delay capped by session expiry), session persisted; resumable")
    func connectionLostAndResume() {
        var first = SessionHarness()
        first.connect(F.connect(.v5, clean: false, will: Self.will, properties: F.v5Properties { $0.sessionExpiryInterval = 20 }))
        _ = first.receive(.subscribe(MQTTSubscribe(packetIdentifier: 1, subscriptions: [MQTTSubscription(topicFilter: "t", qos: .exactlyOnce)])))
        _ = first.handle(.deliver(F.delivery("t", "q2", qos: .exactlyOnce)))
        _ = first.receive(.pubrec(MQTTPubRec(packetIdentifier: 1)))
        _ = first.handle(.deliver(F.delivery("t", "q1", qos: .atLeastOnce)))
        let actions = first.handle(.connectionClosed)
        #expect(actions.count == 2)
        #expect(actions.first == .publishWill(clientIdentifier: "client", will: Self.will, delay: 20))
        guard case .persist(let stored)? = actions.last else {
            Issue.record("expected persist, got \(actions)")
            return
        }
        var second = SessionHarness(connection: 8, stored: stored)
        let resumed = F.sent(second.connect(F.connect(.v5, clean: false, properties: F.v5Properties { $0.sessionExpiryInterval = 20 })))
        #expect(resumed.dropFirst() == [
            .pubrel(MQTTPubRel(packetIdentifier: 1)),
            .publish(F.publish("t", "q1", qos: .atLeastOnce, id: 2, dup: true)),
        ])
        #expect(second.receive(.pubcomp(MQTTPubComp(packetIdentifier: 1))).isEmpty)
        #expect(second.receive(.puback(MQTTPubAck(packetIdentifier: 2))).isEmpty)
        #expect(second.session.inFlightCount == 0)
    }

    @Test("AUTH without an authentication method closes with 0x82; PINGREQ gets PINGRESP")
    func authAndPing() {
        var harness = SessionHarness()
        harness.connect(F.connect(.v5))
        #expect(harness.receive(.pingreq) == [.send([.pingresp])])
        #expect(harness.receive(.auth(MQTTAuth(reasonCode: .reAuthenticate))) == [.close(MQTTDisconnect(reasonCode: .protocolError)), .discard(clientIdentifier: "client")])
    }
}
