import NIOCore
import Testing

@testable import BrokerServer

@Suite("MQTT encoder refusals")
struct MQTTEncoderTests {
    typealias Support = MQTTCodecTestSupport

    func encodeError(_ packet: MQTTPacket, _ version: MQTTProtocolVersion) -> MQTTEncodeError? {
        var out = ByteBuffer(string: "keep")
        do throws(MQTTEncodeError) {
            try packet.encode(version: version, into: &out)
            return nil
        } catch {
            #expect(out == ByteBuffer(string: "keep"), "output left unchanged")
            return error
        }
    }

    @Test("packets and fields a version cannot carry are refused")
    func versionLimits() {
        #expect(encodeError(.auth(MQTTAuth()), .v3_1_1) == .packetNotInVersion(.auth, .v3_1_1))
        #expect(encodeError(.connack(MQTTConnAck(reasonCode: .banned)), .v3_1_1) == .reasonCodeNotAllowed(.connack, .banned, .v3_1_1))
        #expect(encodeError(.connack(MQTTConnAck(sessionPresent: true)), .v3_1) == .reasonCodeNotAllowed(.connack, .success, .v3_1))
        #expect(encodeError(.suback(MQTTSubAck(packetIdentifier: 1, reasonCodes: [.unspecifiedError])), .v3_1)
            == .reasonCodeNotAllowed(.suback, .unspecifiedError, .v3_1))
        #expect(encodeError(.suback(MQTTSubAck(packetIdentifier: 1, reasonCodes: [.quotaExceeded])), .v3_1_1)
            == .reasonCodeNotAllowed(.suback, .quotaExceeded, .v3_1_1))
        let subscribe = MQTTSubscribe(packetIdentifier: 1, subscriptions: [MQTTSubscription(topicFilter: "t", noLocal: true)])
        #expect(encodeError(.subscribe(subscribe), .v3_1_1) == .subscriptionOptionsNotRepresentable)
        let connect = MQTTConnect(protocolVersion: .v3_1_1, clientIdentifier: "c", password: Support.buffer("pw"))
        #expect(encodeError(.connect(connect), .v3_1_1) == .connectFlagsNotRepresentable)
    }

    @Test("invalid fields are refused rather than written")
    func invalidFields() {
        var properties = MQTTProperties()
        properties.sessionExpiryInterval = 1
        #expect(encodeError(.publish(MQTTPublish(topicName: "t", properties: properties, payload: ByteBuffer())), .v5)
            == .propertyNotAllowed(.sessionExpiryInterval, in: .publish))
        properties = MQTTProperties()
        properties.subscriptionIdentifiers = [1, 2]
        #expect(encodeError(.subscribe(MQTTSubscribe(packetIdentifier: 1, properties: properties, subscriptions: [MQTTSubscription(topicFilter: "t")])), .v5)
            == .invalidPropertyValue(.subscriptionIdentifier))
        properties = MQTTProperties()
        properties.receiveMaximum = 0
        #expect(encodeError(.connack(MQTTConnAck(properties: properties)), .v5) == .invalidPropertyValue(.receiveMaximum))
        #expect(encodeError(.publish(MQTTPublish(topicName: "a/+", payload: ByteBuffer())), .v5) == .invalidTopicName("a/+"))
        #expect(encodeError(.publish(MQTTPublish(topicName: "", payload: ByteBuffer())), .v5) == .invalidTopicName(""))
        #expect(encodeError(.publish(MQTTPublish(qos: .atLeastOnce, topicName: "t", payload: ByteBuffer())), .v5) == .invalidPacketIdentifier(.publish))
        #expect(encodeError(.publish(MQTTPublish(topicName: "t", packetIdentifier: 4, payload: ByteBuffer())), .v5) == .invalidPacketIdentifier(.publish))
        #expect(encodeError(.publish(MQTTPublish(dup: true, topicName: "t", payload: ByteBuffer())), .v5) == .duplicateFlagWithQoS0)
        #expect(encodeError(.puback(MQTTPubAck(packetIdentifier: 0)), .v5) == .invalidPacketIdentifier(.puback))
        #expect(encodeError(.puback(MQTTPubAck(packetIdentifier: 1, reasonCode: .grantedQoS2)), .v5) == .reasonCodeNotAllowed(.puback, .grantedQoS2, .v5))
        #expect(encodeError(.subscribe(MQTTSubscribe(packetIdentifier: 1, subscriptions: [])), .v5) == .emptyPayload(.subscribe))
        #expect(encodeError(.unsubscribe(MQTTUnsubscribe(packetIdentifier: 1, topicFilters: ["a/#/b"])), .v5) == .invalidTopicFilter("a/#/b"))
        let long = String(repeating: "x", count: 65_536)
        #expect(encodeError(.publish(MQTTPublish(topicName: long, payload: ByteBuffer())), .v5) == .stringTooLong(field: "topic name", length: 65_536))
    }

    @Test("MQTTEncoder encodes for its version and honours the peer's maximum")
    func messageToByteEncoder() throws {
        var out = ByteBuffer()
        try MQTTEncoder(version: .v3_1_1).encode(data: .disconnect(MQTTDisconnect(reasonCode: .serverBusy)), out: &out)
        #expect(Array(out.readableBytesView) == [0xE0, 0x00])
        try MQTTEncoder(version: .v5).encode(data: .disconnect(MQTTDisconnect(reasonCode: .serverBusy)), out: &out)
        #expect(Array(out.readableBytesView) == [0xE0, 0x00, 0xE0, 0x01, 0x89])
        let small = MQTTEncoder(version: .v5, maximumPacketSize: 10)
        #expect(throws: MQTTEncodeError.packetTooLarge(size: 16, limit: 10)) {
            try small.encode(data: .publish(MQTTPublish(topicName: "t", payload: ByteBuffer(string: "0123456789"))), out: &out)
        }
        #expect(out.readableBytes == 5)
    }
}
