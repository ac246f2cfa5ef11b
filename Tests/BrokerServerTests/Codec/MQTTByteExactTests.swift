import NIOCore
import Testing

@testable import BrokerServer

/// Encodings checked against byte sequences written by hand from the specification's layouts
/// and examples.
@Suite("MQTT byte-exact encodings")
struct MQTTByteExactTests {
    typealias Support = MQTTCodecTestSupport

    private func expectBytes(_ packet: MQTTPacket, _ version: MQTTProtocolVersion, _ expected: [UInt8]) throws {
        let bytes = try Support.encode(packet, version: version)
        #expect(Array(bytes.readableBytesView) == expected)
        let decoded = try Support.decodeOne(Support.buffer(expected), with: Support.receivingDecoder(for: packet, version: version))
        #expect(decoded == packet)
    }

    @Test("3.1.1 CONNECT with the spec's flags 0xCE and keep alive 10")
    func connect311() throws {
        let connect = MQTTConnect(
            protocolVersion: .v3_1_1, cleanStart: true, keepAlive: 10, clientIdentifier: "c1",
            will: MQTTWill(topic: "w/t", payload: Support.buffer("bye"), qos: .atLeastOnce, retain: false),
            userName: "u", password: Support.buffer("pw"))
        try expectBytes(
            .connect(connect), .v3_1_1,
            [
                0x10, 0x1F,
                0x00, 0x04, 0x4D, 0x51, 0x54, 0x54,  // "MQTT"
                0x04,  // level 4
                0xCE,  // user name, password, will QoS 1, will, clean session
                0x00, 0x0A,  // keep alive 10
                0x00, 0x02, 0x63, 0x31,  // "c1"
                0x00, 0x03, 0x77, 0x2F, 0x74,  // will topic "w/t"
                0x00, 0x03, 0x62, 0x79, 0x65,  // will payload "bye"
                0x00, 0x01, 0x75,  // "u"
                0x00, 0x02, 0x70, 0x77,  // "pw"
            ])
    }

    @Test("3.1 CONNECT uses protocol name MQIsdp and level 3")
    func connect31() throws {
        try expectBytes(
            .connect(MQTTConnect(protocolVersion: .v3_1, cleanStart: true, keepAlive: 60, clientIdentifier: "abc")), .v3_1,
            [0x10, 0x11, 0x00, 0x06, 0x4D, 0x51, 0x49, 0x73, 0x64, 0x70, 0x03, 0x02, 0x00, 0x3C, 0x00, 0x03, 0x61, 0x62, 0x63])
    }

    @Test("5.0 CONNECT carries a property length and the session expiry property")
    func connect5() throws {
        var properties = MQTTProperties()
        properties.sessionExpiryInterval = 10
        try expectBytes(
            .connect(MQTTConnect(protocolVersion: .v5, cleanStart: true, keepAlive: 10, clientIdentifier: "", properties: properties)),
            .v5,
            [0x10, 0x12, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x05, 0x02, 0x00, 0x0A, 0x05, 0x11, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x00])
    }

    @Test("5.0 PUBLISH with properties")
    func publish5() throws {
        var properties = MQTTProperties()
        properties.payloadFormatIndicator = .utf8
        properties.messageExpiryInterval = 60
        properties.contentType = "text"
        properties.topicAlias = 5
        properties.userProperties = [MQTTUserProperty(name: "k", value: "v")]
        let publish = MQTTPublish(
            qos: .atLeastOnce, topicName: "a/b", packetIdentifier: 10, properties: properties, payload: Support.buffer("hi"))
        let expected: [UInt8] = [
            0x32, 0x22,
            0x00, 0x03, 0x61, 0x2F, 0x62,  // topic "a/b"
            0x00, 0x0A,  // packet identifier 10
            0x18,  // property length 24
            0x01, 0x01,  // payload format indicator: UTF-8
            0x02, 0x00, 0x00, 0x00, 0x3C,  // message expiry 60
            0x03, 0x00, 0x04, 0x74, 0x65, 0x78, 0x74,  // content type "text"
            0x23, 0x00, 0x05,  // topic alias 5
            0x26, 0x00, 0x01, 0x6B, 0x00, 0x01, 0x76,  // user property k=v
            0x68, 0x69,  // "hi"
        ]
        try expectBytes(.publish(publish), .v5, expected)

        // Property order on the wire does not matter to the decoder.
        let reordered: [UInt8] =
            Array(expected[0..<10]) + [0x26, 0x00, 0x01, 0x6B, 0x00, 0x01, 0x76, 0x23, 0x00, 0x05]
            + Array(expected[10..<24]) + [0x68, 0x69]
        let decoded = try Support.decodeOne(Support.buffer(reordered), with: MQTTDecoder(role: .server, version: .v5))
        #expect(decoded == .publish(publish))
    }

    @Test("3.1.1 SUBSCRIBE example: a/b QoS 1, c/d QoS 2")
    func subscribe311() throws {
        let subscribe = MQTTSubscribe(
            packetIdentifier: 10,
            subscriptions: [MQTTSubscription(topicFilter: "a/b", qos: .atLeastOnce), MQTTSubscription(topicFilter: "c/d", qos: .exactlyOnce)])
        try expectBytes(
            .subscribe(subscribe), .v3_1_1,
            [0x82, 0x0E, 0x00, 0x0A, 0x00, 0x03, 0x61, 0x2F, 0x62, 0x01, 0x00, 0x03, 0x63, 0x2F, 0x64, 0x02])
    }

    @Test("5.0 SUBSCRIBE options byte and subscription identifier")
    func subscribe5() throws {
        var properties = MQTTProperties()
        properties.subscriptionIdentifiers = [200]
        let subscribe = MQTTSubscribe(
            packetIdentifier: 1, properties: properties,
            subscriptions: [MQTTSubscription(topicFilter: "t", qos: .atLeastOnce, noLocal: true, retainAsPublished: true, retainHandling: .doNotSend)])
        try expectBytes(.subscribe(subscribe), .v5, [0x82, 0x0A, 0x00, 0x01, 0x03, 0x0B, 0xC8, 0x01, 0x00, 0x01, 0x74, 0x2D])
    }

    @Test("short fixed packets")
    func shortPackets() throws {
        try expectBytes(.connack(MQTTConnAck(sessionPresent: true)), .v3_1_1, [0x20, 0x02, 0x01, 0x00])
        try expectBytes(.connack(MQTTConnAck(reasonCode: .badUserNameOrPassword)), .v3_1_1, [0x20, 0x02, 0x00, 0x04])
        try expectBytes(.connack(MQTTConnAck(reasonCode: .badUserNameOrPassword)), .v5, [0x20, 0x03, 0x00, 0x86, 0x00])
        try expectBytes(.pingreq, .v3_1_1, [0xC0, 0x00])
        try expectBytes(.pingresp, .v5, [0xD0, 0x00])
        try expectBytes(.disconnect(MQTTDisconnect()), .v3_1, [0xE0, 0x00])
        try expectBytes(.disconnect(MQTTDisconnect()), .v5, [0xE0, 0x00])
        try expectBytes(.disconnect(MQTTDisconnect(reasonCode: .sessionTakenOver)), .v5, [0xE0, 0x01, 0x8E])
        try expectBytes(.pubrel(MQTTPubRel(packetIdentifier: 0x1234)), .v3_1_1, [0x62, 0x02, 0x12, 0x34])
        try expectBytes(.puback(MQTTPubAck(packetIdentifier: 1, reasonCode: .noMatchingSubscribers)), .v5, [0x40, 0x03, 0x00, 0x01, 0x10])
        try expectBytes(.unsuback(MQTTUnsubAck(packetIdentifier: 7)), .v3_1_1, [0xB0, 0x02, 0x00, 0x07])
        try expectBytes(.auth(MQTTAuth()), .v5, [0xF0, 0x00])
    }

    @Test(
        "remaining length uses the specification's Variable Byte Integer boundaries",
        arguments: [
            (0, [0x00]), (127, [0x7F]), (128, [0x80, 0x01]), (16_383, [0xFF, 0x7F]), (16_384, [0x80, 0x80, 0x01]),
            (2_097_151, [0xFF, 0xFF, 0x7F]), (2_097_152, [0x80, 0x80, 0x80, 0x01]), (268_435_455, [0xFF, 0xFF, 0xFF, 0x7F]),
        ] as [(Int, [UInt8])])
    func variableByteInteger(value: Int, bytes: [UInt8]) throws {
        var out = ByteBuffer()
        #expect(out.writeMQTTVariableByteInteger(value) == bytes.count)
        #expect(Array(out.readableBytesView) == bytes)
        #expect(ByteBuffer.mqttVariableByteIntegerLength(value) == bytes.count)
        let read = try #require(try out.getMQTTVariableByteInteger(at: 0))
        #expect(read.value == value)
        #expect(read.length == bytes.count)
    }

    @Test("remaining length prefix is exact around the one-to-two byte boundary")
    func remainingLengthBoundary() throws {
        for payloadSize in [120, 121, 122, 123, 124, 125, 16_370, 16_378, 16_379] {
            let packet = MQTTPacket.publish(MQTTPublish(topicName: "t", payload: ByteBuffer(repeating: 1, count: payloadSize)))
            var bytes = try Support.encode(packet, version: .v3_1_1)
            let remaining = payloadSize + 3
            #expect(bytes.readInteger(as: UInt8.self) == 0x30)
            #expect(try bytes.readMQTTVariableByteInteger("remaining length") == remaining)
            #expect(bytes.readableBytes == remaining)
        }
    }
}
