import NIOCore
import Testing

@testable import BrokerServer

/// Client → server PUBLISH flows.
@Suite("MQTT session: inbound publications")
struct MQTTSessionInboundTests {
    typealias F = SessionFixtures

    static func connected(_ version: MQTTProtocolVersion, _ configuration: MQTTSessionConfiguration = MQTTSessionConfiguration()) -> SessionHarness {
        var harness = SessionHarness(configuration)
        harness.connect(F.connect(version))
        return harness
    }

    @Test("QoS 0 is handed to the broker without an acknowledgement", arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func qos0(version: MQTTProtocolVersion) {
        var harness = Self.connected(version)
        #expect(harness.receive(.publish(F.publish("a/b", "x"))) == [.publish(F.inbound("a/b", "x"))])
    }

    @Test("QoS 1: PUBACK only after the journal persisted the message", arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func qos1(version: MQTTProtocolVersion) {
        var harness = Self.connected(version)
        #expect(harness.receive(.publish(F.publish("a", qos: .atLeastOnce, id: 3))) == [.publish(F.inbound("a", qos: .atLeastOnce, id: 3))])
        #expect(harness.handle(.publishPersisted(packetIdentifier: 3, reasonCode: .success)) == [.send([.puback(MQTTPubAck(packetIdentifier: 3))])])
        #expect(harness.handle(.publishPersisted(packetIdentifier: 3, reasonCode: .success)).isEmpty)
    }

    @Test("QoS 1 rejected by the broker: v5 PUBACK carries the code, 3.1.1 closes")
    func qos1Rejected() {
        var v5 = Self.connected(.v5)
        _ = v5.receive(.publish(F.publish("a", qos: .atLeastOnce, id: 3)))
        #expect(v5.handle(.publishPersisted(packetIdentifier: 3, reasonCode: .quotaExceeded)) == [.send([.puback(MQTTPubAck(packetIdentifier: 3, reasonCode: .quotaExceeded))])])

        var v3 = Self.connected(.v3_1_1)
        _ = v3.receive(.publish(F.publish("a", qos: .atLeastOnce, id: 3)))
        #expect(v3.handle(.publishPersisted(packetIdentifier: 3, reasonCode: .quotaExceeded)) == [.close(nil), .discard(clientIdentifier: "client")])
    }

    @Test("QoS 2: PUBREC after persist, a duplicate is not delivered twice, PUBREL → PUBCOMP", arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func qos2(version: MQTTProtocolVersion) {
        var harness = Self.connected(version)
        let publish = F.publish("a", qos: .exactlyOnce, id: 8)
        #expect(harness.receive(.publish(publish)) == [.publish(F.inbound("a", qos: .exactlyOnce, id: 8))])
        // Retransmitted before the journal answered: nothing new.
        var duplicate = publish
        duplicate.dup = true
        #expect(harness.receive(.publish(duplicate)).isEmpty)
        #expect(harness.handle(.publishPersisted(packetIdentifier: 8, reasonCode: .success)) == [.send([.pubrec(MQTTPubRec(packetIdentifier: 8))])])
        // Retransmitted after PUBREC: PUBREC again, no second delivery.
        #expect(harness.receive(.publish(duplicate)) == [.send([.pubrec(MQTTPubRec(packetIdentifier: 8))])])
        #expect(harness.receive(.pubrel(MQTTPubRel(packetIdentifier: 8))) == [.send([.pubcomp(MQTTPubComp(packetIdentifier: 8))])])
        // The identifier is free again: a new message with it is delivered.
        #expect(harness.receive(.publish(publish)) == [.publish(F.inbound("a", qos: .exactlyOnce, id: 8))])
    }

    @Test("PUBREL for an unknown identifier: v5 PUBCOMP 0x92, 3.1.1 plain PUBCOMP")
    func unknownPubRel() {
        var v5 = Self.connected(.v5)
        #expect(v5.receive(.pubrel(MQTTPubRel(packetIdentifier: 4))) == [.send([.pubcomp(MQTTPubComp(packetIdentifier: 4, reasonCode: .packetIdentifierNotFound))])])
        var v3 = Self.connected(.v3_1_1)
        #expect(v3.receive(.pubrel(MQTTPubRel(packetIdentifier: 4))) == [.send([.pubcomp(MQTTPubComp(packetIdentifier: 4))])])
    }

    @Test("More unacknowledged QoS 1/2 publications than Receive Maximum: DISCONNECT 0x93")
    func receiveMaximumExceeded() {
        var harness = Self.connected(.v5, MQTTSessionConfiguration(receiveMaximum: 2))
        _ = harness.receive(.publish(F.publish("a", qos: .atLeastOnce, id: 1)))
        _ = harness.receive(.publish(F.publish("a", qos: .exactlyOnce, id: 2)))
        _ = harness.handle(.publishPersisted(packetIdentifier: 2, reasonCode: .success))
        // QoS 2 still counts until PUBCOMP; QoS 0 never counts.
        #expect(harness.receive(.publish(F.publish("a"))) == [.publish(F.inbound("a"))])
        let actions = harness.receive(.publish(F.publish("a", qos: .atLeastOnce, id: 3)))
        #expect(actions == [.close(MQTTDisconnect(reasonCode: .receiveMaximumExceeded)), .discard(clientIdentifier: "client")])
    }

    @Test("Receive Maximum frees up as acknowledgements are sent")
    func receiveMaximumFreed() {
        var harness = Self.connected(.v5, MQTTSessionConfiguration(receiveMaximum: 1))
        _ = harness.receive(.publish(F.publish("a", qos: .atLeastOnce, id: 1)))
        _ = harness.handle(.publishPersisted(packetIdentifier: 1, reasonCode: .success))
        #expect(harness.receive(.publish(F.publish("a", qos: .atLeastOnce, id: 2))) == [.publish(F.inbound("a", qos: .atLeastOnce, id: 2))])
    }

    @Test("Inbound topic alias: set, then used with an empty topic name")
    func inboundAlias() {
        var harness = Self.connected(.v5)
        let alias = F.v5Properties { $0.topicAlias = 3 }
        #expect(harness.receive(.publish(F.publish("long/topic", "1", properties: alias))) == [.publish(F.inbound("long/topic", "1"))])
        #expect(harness.receive(.publish(F.publish("", "2", properties: alias))) == [.publish(F.inbound("long/topic", "2"))])
        #expect(harness.receive(.publish(F.publish("other", "3", properties: alias))) == [.publish(F.inbound("other", "3"))])
        #expect(harness.receive(.publish(F.publish("", "4", properties: alias))) == [.publish(F.inbound("other", "4"))])
    }

    @Test("Topic alias 0 or above the maximum: DISCONNECT 0x94", arguments: [UInt16(0), 17])
    func invalidAlias(alias: UInt16) {
        var harness = Self.connected(.v5)
        let actions = harness.receive(.publish(F.publish("t", properties: F.v5Properties { $0.topicAlias = alias })))
        #expect(actions == [.close(MQTTDisconnect(reasonCode: .topicAliasInvalid)), .discard(clientIdentifier: "client")])
    }

    @Test("An unmapped alias with an empty topic name is a Protocol Error")
    func unmappedAlias() {
        var harness = Self.connected(.v5)
        let actions = harness.receive(.publish(F.publish("", properties: F.v5Properties { $0.topicAlias = 2 })))
        #expect(actions == [.close(MQTTDisconnect(reasonCode: .protocolError)), .discard(clientIdentifier: "client")])
    }

    @Test("QoS above the server maximum: DISCONNECT 0x9B; RETAIN when unsupported: 0x9A")
    func capabilities() {
        let configuration = MQTTSessionConfiguration(maximumQoS: .atLeastOnce, retainAvailable: false)
        var qos = Self.connected(.v5, configuration)
        #expect(qos.receive(.publish(F.publish("t", qos: .exactlyOnce, id: 1))) == [.close(MQTTDisconnect(reasonCode: .qosNotSupported)), .discard(clientIdentifier: "client")])
        var retain = Self.connected(.v5, configuration)
        #expect(retain.receive(.publish(F.publish("t", retain: true))) == [.close(MQTTDisconnect(reasonCode: .retainNotSupported)), .discard(clientIdentifier: "client")])
    }

    @Test("A decode error after CONNECT: v5 DISCONNECT with its reason code, 3.1.1 just closes")
    func decodeErrorAfterConnect() {
        var v5 = Self.connected(.v5)
        #expect(v5.handle(.decodeFailed(.invalidUTF8(field: "topic name"))) == [.close(MQTTDisconnect(reasonCode: .malformedPacket)), .discard(clientIdentifier: "client")])
        var v3 = Self.connected(.v3_1_1)
        #expect(v3.handle(.decodeFailed(.invalidUTF8(field: "topic name"))) == [.close(nil), .discard(clientIdentifier: "client")])
    }
}
