import NIOCore
import Testing

@testable import BrokerServer

/// CONNECT → CONNACK transcripts.
@Suite("MQTT session: CONNECT and CONNACK")
struct MQTTSessionConnectTests {
    typealias F = SessionFixtures

    @Test("v5 empty client id gets an assigned identifier and the server limits")
    func v5AssignedIdentifier() {
        var harness = SessionHarness(connection: 42)
        let actions = harness.connect(F.connect(.v5, id: ""))
        let expected = F.defaultConnAckProperties { $0.assignedClientIdentifier = "tributary-42" }
        #expect(actions == [.send([.connack(MQTTConnAck(properties: expected))])])
        #expect(harness.session.clientIdentifier == "tributary-42")
        #expect(harness.session.phase == .connected)
    }

    @Test("an operator's redirection: 5.0 gets 0x9C or 0x9D with the Server Reference, 3.1.1 gets return code 3")
    func serverRedirection() {
        var configuration = MQTTSessionConfiguration()
        configuration.serverRedirection = MQTTServerRedirection(serverReference: "broker-2:1883")
        var temporary = SessionHarness(configuration)
        var reference = MQTTProperties()
        reference.serverReference = "broker-2:1883"
        #expect(temporary.connect(F.connect(.v5, id: "a")) == [
            .send([.connack(MQTTConnAck(reasonCode: .useAnotherServer, properties: reference))]), .close(nil),
        ])
        #expect(temporary.session.phase == .closed)

        configuration.serverRedirection?.permanent = true
        var moved = SessionHarness(configuration)
        #expect(moved.connect(F.connect(.v5, id: "a")) == [
            .send([.connack(MQTTConnAck(reasonCode: .serverMoved, properties: reference))]), .close(nil),
        ])

        var old = SessionHarness(configuration)
        #expect(old.connect(F.connect(.v3_1_1, id: "a")) == [
            .send([.connack(MQTTConnAck(reasonCode: .serverUnavailable))]), .close(nil),
        ])
    }

    @Test("3.1.1 empty client id: assigned silently with clean session, rejected (0x02) without")
    func v311EmptyIdentifier() {
        var clean = SessionHarness(connection: 3)
        #expect(clean.connect(F.connect(.v3_1_1, id: "", clean: true)) == [.send([.connack(MQTTConnAck())])])
        #expect(clean.session.clientIdentifier == "tributary-3")

        var persistent = SessionHarness()
        let actions = persistent.connect(F.connect(.v3_1_1, id: "", clean: false))
        #expect(actions == [.send([.connack(MQTTConnAck(reasonCode: .clientIdentifierNotValid))]), .close(nil)])
        #expect(persistent.session.phase == .closed)
        #expect(persistent.receive(.pingreq).isEmpty)
    }

    @Test("v5 server keep alive override, session expiry clamp and response information")
    func v5Overrides() {
        let configuration = MQTTSessionConfiguration(
            receiveMaximum: 10, maximumPacketSize: nil, topicAliasMaximum: 0, serverKeepAlive: 30,
            maximumSessionExpiryInterval: 100, maximumQoS: .atLeastOnce, retainAvailable: false,
            responseInformation: "reply/")
        var harness = SessionHarness(configuration)
        let properties = F.v5Properties {
            $0.sessionExpiryInterval = 1_000
            $0.requestResponseInformation = true
        }
        let actions = harness.connect(F.connect(.v5, keepAlive: 5, properties: properties))
        var expected = MQTTProperties()
        expected.serverKeepAlive = 30
        expected.sessionExpiryInterval = 100
        expected.receiveMaximum = 10
        expected.maximumQoS = .atLeastOnce
        expected.retainAvailable = false
        expected.responseInformation = "reply/"
        #expect(actions == [.send([.connack(MQTTConnAck(properties: expected))])])
        #expect(harness.session.keepAlive == 30)
        #expect(harness.session.state.sessionExpiryInterval == 100)
    }

    @Test("3.1.1 keeps the client's keep alive; Clean Session 0 never expires")
    func v311KeepAlive() {
        var harness = SessionHarness(MQTTSessionConfiguration(serverKeepAlive: 30))
        #expect(harness.connect(F.connect(.v3_1_1, clean: false, keepAlive: 5)) == [.send([.connack(MQTTConnAck())])])
        #expect(harness.session.keepAlive == 5)
        #expect(harness.session.state.sessionExpiryInterval == UInt32.max)
    }

    @Test("v5 CONNECT with an authentication method is refused with 0x8C")
    func authenticationMethod() {
        var harness = SessionHarness()
        let actions = harness.connect(F.connect(.v5, properties: F.v5Properties { $0.authenticationMethod = "SCRAM" }))
        #expect(actions == [.send([.connack(MQTTConnAck(reasonCode: .badAuthenticationMethod))]), .close(nil)])
    }

    @Test("A will the server cannot honour is refused: QoS → 0x9B, retain → 0x9A (MQTT-3.2.2-12/-13)")
    func willCapabilities() {
        let configuration = MQTTSessionConfiguration(maximumQoS: .atLeastOnce, retainAvailable: false)
        var qos = SessionHarness(configuration)
        let qos2Will = MQTTWill(topic: "w", payload: F.payload("x"), qos: .exactlyOnce)
        #expect(qos.connect(F.connect(.v5, will: qos2Will)) == [.send([.connack(MQTTConnAck(reasonCode: .qosNotSupported))]), .close(nil)])
        var retain = SessionHarness(configuration)
        let retainedWill = MQTTWill(topic: "w", payload: F.payload("x"), retain: true)
        #expect(retain.connect(F.connect(.v5, will: retainedWill)) == [.send([.connack(MQTTConnAck(reasonCode: .retainNotSupported))]), .close(nil)])
        // 3.1.1 has no return code for it: the connection is just closed.
        var v3 = SessionHarness(configuration)
        #expect(v3.connect(F.connect(.v3_1_1, will: retainedWill)) == [.close(nil)])
    }

    @Test("An unsupported protocol level is answered with return code 0x01 and closed")
    func unsupportedVersion() {
        var harness = SessionHarness()
        let actions = harness.handle(.decodeFailed(.unsupportedProtocolVersion(name: "MQTT", level: 9)))
        #expect(actions == [.send([.connack(MQTTConnAck(reasonCode: .unsupportedProtocolVersion))]), .close(nil)])
        #expect(harness.session.version == .v3_1_1)
    }

    @Test("A first packet other than CONNECT closes the connection")
    func notConnectFirst() {
        var harness = SessionHarness()
        #expect(harness.receive(.pingreq) == [.close(nil)])
    }

    static func storedState() -> MQTTSessionState {
        var state = MQTTSessionState(clientIdentifier: "client", nextPacketIdentifier: 9, nextSequence: 3, sessionExpiryInterval: 60)
        state.subscriptions["a/+"] = .init(subscription: MQTTSubscription(topicFilter: "a/+", qos: .atLeastOnce), subscriptionIdentifier: 4)
        state.inFlight[5] = .init(publish: F.publish("a/x", "two", qos: .exactlyOnce, id: 5), phase: .awaitingPubComp, sequence: 1)
        state.inFlight[2] = .init(publish: F.publish("a/y", "one", qos: .atLeastOnce, id: 2), phase: .awaitingPubAck, sequence: 0)
        state.inFlight[7] = .init(publish: F.publish("a/z", "three", qos: .exactlyOnce, id: 7), phase: .awaitingPubRec, sequence: 2)
        state.pendingInboundQoS2 = [11]
        return state
    }

    @Test("Resume: session present, subscriptions re-registered, PUBLISH (DUP=1) and PUBREL resent in order", arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func resume(version: MQTTProtocolVersion) {
        var harness = SessionHarness(stored: Self.storedState())
        let actions = harness.connect(F.connect(version, clean: false, properties: version == .v5 ? F.v5Properties { $0.sessionExpiryInterval = 60 } : MQTTProperties()))
        let connack = MQTTConnAck(sessionPresent: true, properties: version == .v5 ? F.defaultConnAckProperties() : MQTTProperties())
        let request = MQTTSubscriptionRequest(subscription: MQTTSubscription(topicFilter: "a/+", qos: .atLeastOnce), subscriptionIdentifier: 4, isNew: false)
        #expect(actions == [
            .send([.connack(connack)]),
            .subscribe(clientIdentifier: "client", [request]),
            .send([
                .publish(F.publish("a/y", "one", qos: .atLeastOnce, id: 2, dup: true)),
                .pubrel(MQTTPubRel(packetIdentifier: 5)),
                .publish(F.publish("a/z", "three", qos: .exactlyOnce, id: 7, dup: true)),
            ]),
        ])
        // The pending inbound QoS 2 flow continues: PUBREL → PUBCOMP.
        #expect(harness.receive(.pubrel(MQTTPubRel(packetIdentifier: 11))) == [.send([.pubcomp(MQTTPubComp(packetIdentifier: 11))])])
        // New identifiers continue after the stored ones.
        let sent = F.sent(harness.handle(.deliver(F.delivery())))
        #expect(sent == [.publish(F.publish("t", qos: .atLeastOnce, id: 9))])
    }

    @Test("Clean start drops the stored session and its subscriptions")
    func cleanStartDiscards() {
        var harness = SessionHarness(stored: Self.storedState())
        let actions = harness.connect(F.connect(.v3_1_1, clean: true))
        #expect(actions == [
            .unsubscribe(clientIdentifier: "client", topicFilters: ["a/+"]),
            .send([.connack(MQTTConnAck(sessionPresent: false))]),
        ])
        #expect(harness.session.inFlightCount == 0)
    }
}
