import NIOCore
import Testing

@testable import BrokerServer

/// Server → client deliveries.
@Suite("MQTT session: outbound deliveries")
struct MQTTSessionOutboundTests {
    typealias F = SessionFixtures

    static func connected(
        _ version: MQTTProtocolVersion, _ configuration: MQTTSessionConfiguration = MQTTSessionConfiguration(),
        properties: MQTTProperties = MQTTProperties()
    ) -> SessionHarness {
        var harness = SessionHarness(configuration)
        harness.connect(F.connect(version, properties: properties))
        return harness
    }

    @Test("QoS 1 and 2 get packet identifiers and complete with PUBACK / PUBREC-PUBREL-PUBCOMP", arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func acknowledgements(version: MQTTProtocolVersion) {
        var harness = Self.connected(version)
        #expect(harness.handle(.deliver(F.delivery("a", qos: .atLeastOnce))) == [.send([.publish(F.publish("a", qos: .atLeastOnce, id: 1))])])
        #expect(harness.handle(.deliver(F.delivery("b", qos: .exactlyOnce))) == [.send([.publish(F.publish("b", qos: .exactlyOnce, id: 2))])])
        #expect(harness.handle(.deliver(F.delivery("c", qos: .atMostOnce))) == [.send([.publish(F.publish("c"))])])
        #expect(harness.session.inFlightCount == 2)
        #expect(harness.receive(.puback(MQTTPubAck(packetIdentifier: 1))).isEmpty)
        #expect(harness.receive(.pubrec(MQTTPubRec(packetIdentifier: 2))) == [.send([.pubrel(MQTTPubRel(packetIdentifier: 2))])])
        #expect(harness.session.state.inFlight[2]?.phase == .awaitingPubComp)
        #expect(harness.receive(.pubcomp(MQTTPubComp(packetIdentifier: 2))).isEmpty)
        #expect(harness.session.inFlightCount == 0)
    }

    @Test("The granted subscription QoS caps the delivery QoS")
    func qosDowngrade() {
        var harness = Self.connected(.v5)
        var delivery = F.delivery(qos: .exactlyOnce)
        delivery.subscriptionQoS = .atMostOnce
        #expect(harness.handle(.deliver(delivery)) == [.send([.publish(F.publish("t"))])])
    }

    @Test("PUBREC with a failure code ends the QoS 2 flow; unknown PUBREC gets PUBREL 0x92 in v5")
    func pubrecFailure() {
        var harness = Self.connected(.v5)
        _ = harness.handle(.deliver(F.delivery(qos: .exactlyOnce)))
        #expect(harness.receive(.pubrec(MQTTPubRec(packetIdentifier: 1, reasonCode: .quotaExceeded))).isEmpty)
        #expect(harness.session.inFlightCount == 0)
        #expect(harness.receive(.pubrec(MQTTPubRec(packetIdentifier: 9))) == [.send([.pubrel(MQTTPubRel(packetIdentifier: 9, reasonCode: .packetIdentifierNotFound))])])
    }

    @Test("The in-flight window is bounded by the client's Receive Maximum; acks release the queue in order")
    func window() {
        var harness = Self.connected(.v5, properties: F.v5Properties { $0.receiveMaximum = 2 })
        _ = harness.handle(.deliver(F.delivery("1")))
        _ = harness.handle(.deliver(F.delivery("2")))
        #expect(harness.handle(.deliver(F.delivery("3"))).isEmpty)
        // QoS 0 waits behind the queue too, to keep the order.
        #expect(harness.handle(.deliver(F.delivery("4", qos: .atMostOnce))).isEmpty)
        #expect(harness.session.queuedCount == 2)
        #expect(harness.receive(.puback(MQTTPubAck(packetIdentifier: 2))) == [.send([
            .publish(F.publish("3", qos: .atLeastOnce, id: 3)), .publish(F.publish("4")),
        ])])
        #expect(harness.session.inFlightCount == 2)
    }

    @Test("A full queue drops queued QoS 0 first, then the oldest message, and counts drops")
    func dropPolicy() {
        let configuration = MQTTSessionConfiguration(maximumQueuedMessages: 2)
        var harness = Self.connected(.v5, configuration, properties: F.v5Properties { $0.receiveMaximum = 1 })
        _ = harness.handle(.deliver(F.delivery("inflight")))
        _ = harness.handle(.deliver(F.delivery("old")))
        _ = harness.handle(.deliver(F.delivery("q0", qos: .atMostOnce)))
        _ = harness.handle(.deliver(F.delivery("new")))  // drops q0
        _ = harness.handle(.deliver(F.delivery("newer")))  // drops old
        _ = harness.handle(.deliver(F.delivery("zero", qos: .atMostOnce)))  // dropped itself
        #expect(harness.session.statistics.droppedQueueFull == 3)
        let actions = harness.receive(.puback(MQTTPubAck(packetIdentifier: 1)))
        #expect(actions == [.send([.publish(F.publish("new", qos: .atLeastOnce, id: 2))])])
        #expect(harness.receive(.puback(MQTTPubAck(packetIdentifier: 2))) == [.send([.publish(F.publish("newer", qos: .atLeastOnce, id: 3))])])
    }

    @Test("Outbound topic aliases when the client allows them")
    func outboundAliases() {
        var harness = Self.connected(.v5, properties: F.v5Properties { $0.topicAliasMaximum = 1 })
        let first = F.sent(harness.handle(.deliver(F.delivery("a/long/topic", "1", qos: .atMostOnce))))
        let second = F.sent(harness.handle(.deliver(F.delivery("a/long/topic", "2", qos: .atMostOnce))))
        let other = F.sent(harness.handle(.deliver(F.delivery("b", "3", qos: .atMostOnce))))
        let alias = F.v5Properties { $0.topicAlias = 1 }
        #expect(first == [.publish(F.publish("a/long/topic", "1", properties: alias))])
        #expect(second == [.publish(F.publish("", "2", properties: alias))])
        #expect(other == [.publish(F.publish("b", "3"))])
    }

    @Test("No aliases without the client's Topic Alias Maximum")
    func noAliases() {
        var harness = Self.connected(.v5)
        _ = harness.handle(.deliver(F.delivery("a", qos: .atMostOnce)))
        #expect(F.sent(harness.handle(.deliver(F.delivery("a", qos: .atMostOnce)))) == [.publish(F.publish("a"))])
    }

    @Test("Messages larger than the client's Maximum Packet Size are dropped as if sent")
    func maximumPacketSize() {
        var harness = Self.connected(.v5, properties: F.v5Properties { $0.maximumPacketSize = 32 })
        let big = String(repeating: "x", count: 40)
        #expect(harness.handle(.deliver(F.delivery("t", big))).isEmpty)
        #expect(harness.session.statistics.droppedTooLarge == 1)
        #expect(harness.session.inFlightCount == 0)
        #expect(harness.handle(.deliver(F.delivery("t", "small"))) == [.send([.publish(F.publish("t", "small", qos: .atLeastOnce, id: 1))])])
    }

    @Test("Message expiry: the remaining interval is sent; expired queued messages are dropped")
    func messageExpiry() {
        var harness = Self.connected(.v5, properties: F.v5Properties { $0.receiveMaximum = 1 })
        let expiring = F.v5Properties { $0.messageExpiryInterval = 10 }
        harness.advance(seconds: 3)
        let sent = harness.handle(.deliver(F.delivery("a", qos: .atLeastOnce, properties: expiring)))
        #expect(sent == [.send([.publish(F.publish("a", qos: .atLeastOnce, id: 1, properties: F.v5Properties { $0.messageExpiryInterval = 7 }))])])
        _ = harness.handle(.deliver(F.delivery("b", qos: .atLeastOnce, properties: expiring)))
        _ = harness.handle(.deliver(F.delivery("c", qos: .atLeastOnce, properties: F.v5Properties { $0.messageExpiryInterval = 100 })))
        harness.advance(seconds: 8)
        #expect(harness.handle(.keepAliveTick).isEmpty)
        #expect(harness.session.statistics.droppedExpired == 1)
        #expect(harness.receive(.puback(MQTTPubAck(packetIdentifier: 1))) == [.send([
            .publish(F.publish("c", qos: .atLeastOnce, id: 2, properties: F.v5Properties { $0.messageExpiryInterval = 89 }))
        ])])
    }

    @Test("No Local: the client's own publication is not delivered to it")
    func noLocal() {
        var harness = Self.connected(.v5)
        var delivery = F.delivery()
        delivery.noLocal = true
        delivery.publisherClientIdentifier = "client"
        #expect(harness.handle(.deliver(delivery)).isEmpty)
        #expect(harness.session.statistics.droppedNoLocal == 1)
        delivery.publisherClientIdentifier = "someone-else"
        #expect(F.sent(harness.handle(.deliver(delivery))).count == 1)
    }

    @Test("RETAIN is cleared on normal deliveries, kept with Retain As Published, set on retained deliveries")
    func retainFlag() {
        var harness = Self.connected(.v5)
        let plain = F.delivery(qos: .atMostOnce, retain: true)
        var asPublished = plain
        asPublished.retainAsPublished = true
        var onSubscribe = F.delivery(qos: .atMostOnce, retain: false)
        onSubscribe.isRetainedDelivery = true
        #expect(F.sent(harness.handle(.deliver(plain))) == [.publish(F.publish("t"))])
        #expect(F.sent(harness.handle(.deliver(asPublished))) == [.publish(F.publish("t", retain: true))])
        #expect(F.sent(harness.handle(.deliver(onSubscribe))) == [.publish(F.publish("t", retain: true))])
    }

    @Test("Subscription identifiers and properties go out in v5 only")
    func subscriptionIdentifiers() {
        let properties = F.v5Properties {
            $0.contentType = "text/plain"
            $0.topicAlias = 5
        }
        var v5 = Self.connected(.v5)
        let expected = F.v5Properties {
            $0.contentType = "text/plain"
            $0.subscriptionIdentifiers = [2, 9]
        }
        #expect(F.sent(v5.handle(.deliver(F.delivery(qos: .atMostOnce, properties: properties, ids: [2, 9])))) == [.publish(F.publish("t", properties: expected))])
        var v3 = Self.connected(.v3_1_1)
        #expect(F.sent(v3.handle(.deliver(F.delivery(qos: .atMostOnce, properties: properties, ids: [2, 9])))) == [.publish(F.publish("t"))])
    }

    @Test("Packet identifiers skip those still in flight and wrap after 65535")
    func identifierWrap() {
        var stored = MQTTSessionState(clientIdentifier: "client", nextPacketIdentifier: UInt16.max, sessionExpiryInterval: 10)
        stored.inFlight[1] = .init(publish: F.publish("x", qos: .atLeastOnce, id: 1), phase: .awaitingPubAck, sequence: 0)
        var harness = SessionHarness(stored: stored)
        harness.connect(F.connect(.v3_1_1, clean: false))
        #expect(F.sent(harness.handle(.deliver(F.delivery()))) == [.publish(F.publish("t", qos: .atLeastOnce, id: UInt16.max))])
        #expect(F.sent(harness.handle(.deliver(F.delivery()))) == [.publish(F.publish("t", qos: .atLeastOnce, id: 2))])
    }
}
