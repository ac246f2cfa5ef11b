import NIOCore
import Testing

@testable import BrokerServer

/// Framing, fixed-header, string and topic rules: each malformed input yields its specific
/// error and reason code.
@Suite("MQTT malformed packets: framing, strings, topics")
struct MQTTMalformedPacketTests {
    typealias Support = MQTTCodecTestSupport

    static let server5 = MQTTDecoder(role: .server, version: .v5)
    static let server311 = MQTTDecoder(role: .server, version: .v3_1_1)
    static let client5 = MQTTDecoder(role: .client, version: .v5)

    /// A 2-byte-length-prefixed string.
    static func s(_ string: String) -> [UInt8] {
        let utf8 = Array(string.utf8)
        return [UInt8(utf8.count >> 8), UInt8(utf8.count & 0xFF)] + utf8
    }

    /// A packet with a correct remaining length around `body`.
    static func packet(_ first: UInt8, _ body: [UInt8]) -> [UInt8] {
        var out = ByteBuffer()
        out.writeInteger(first)
        out.writeMQTTVariableByteInteger(body.count)
        out.writeBytes(body)
        return Array(out.readableBytesView)
    }

    func expect(
        _ bytes: [UInt8], _ decoder: MQTTDecoder, _ error: MQTTDecodeError, _ reason: MQTTReasonCode,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let actual = Support.decodeError(bytes, with: decoder)
        #expect(actual == error, sourceLocation: sourceLocation)
        #expect(actual?.reasonCode == reason, sourceLocation: sourceLocation)
    }

    func expectAccepted(_ bytes: [UInt8], _ decoder: MQTTDecoder, sourceLocation: SourceLocation = #_sourceLocation) {
        var decoder = decoder
        do {
            let (packets, leftover) = try Support.decodeAll(Support.buffer(bytes), with: &decoder)
            #expect(packets.count == 1, sourceLocation: sourceLocation)
            #expect(leftover == 0, sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("remaining length longer than four bytes is malformed")
    func remainingLengthTooLong() {
        expect([0x30, 0x80, 0x80, 0x80, 0x80, 0x01], Self.server5, .variableByteIntegerTooLong, .malformedPacket)
        // Detected with only the header buffered.
        expect([0x30, 0xFF, 0xFF, 0xFF, 0xFF], Self.server5, .variableByteIntegerTooLong, .malformedPacket)
    }

    @Test("non-minimal Variable Byte Integers are malformed")
    func nonMinimal() {
        expect([0xC0, 0x80, 0x00], Self.server311, .variableByteIntegerNotMinimal, .malformedPacket)
        // Property length 0 written in two bytes.
        expect(Self.packet(0x40, [0x00, 0x01, 0x00, 0x80, 0x00]), Self.server5, .variableByteIntegerNotMinimal, .malformedPacket)
    }

    @Test("packet larger than the maximum is rejected from its header alone")
    func packetTooLarge() {
        let decoder = MQTTDecoder(role: .server, version: .v5, configuration: .init(maximumPacketSize: 100))
        expect([0x30, 0xFF, 0x7F], decoder, .packetTooLarge(size: 16_386, limit: 100), .packetTooLarge)
        expect([0x30, 0x63], decoder, .packetTooLarge(size: 101, limit: 100), .packetTooLarge)
        // Exactly at the limit is fine.
        expectAccepted(Self.packet(0x30, Self.s("t") + [UInt8](repeating: 0, count: 95)), decoder)
        let awaiting = MQTTDecoder(configuration: .init(maximumPacketSize: 64))
        expect([0x10, 0x80, 0x01], awaiting, .packetTooLarge(size: 131, limit: 64), .packetTooLarge)
    }

    @Test("reserved packet types")
    func reservedTypes() {
        expect([0x00, 0x00], Self.server5, .reservedPacketType(0), .malformedPacket)
        expect([0xF0, 0x00], Self.server311, .reservedPacketType(15), .malformedPacket)
        expect([0xF0, 0x00], MQTTDecoder(role: .client, version: .v3_1), .reservedPacketType(15), .malformedPacket)
    }

    @Test("reserved fixed-header flags")
    func reservedFlags() {
        expect(Self.packet(0x80, [0x00, 0x01] + Self.s("a") + [0x00]), Self.server311,
            .invalidFixedHeaderFlags(.subscribe, flags: 0), .malformedPacket)
        expect(Self.packet(0xA0, [0x00, 0x01] + Self.s("a")), Self.server311,
            .invalidFixedHeaderFlags(.unsubscribe, flags: 0), .malformedPacket)
        expect([0x60, 0x02, 0x00, 0x01], Self.server5, .invalidFixedHeaderFlags(.pubrel, flags: 0), .malformedPacket)
        expect([0x42, 0x02, 0x00, 0x01], Self.server5, .invalidFixedHeaderFlags(.puback, flags: 2), .malformedPacket)
        expect([0xC1, 0x00], Self.server5, .invalidFixedHeaderFlags(.pingreq, flags: 1), .malformedPacket)
        expect([0xE8, 0x00], Self.server311, .invalidFixedHeaderFlags(.disconnect, flags: 8), .malformedPacket)
        expect([0x18, 0x00], MQTTDecoder(), .invalidFixedHeaderFlags(.connect, flags: 8), .malformedPacket)
    }

    @Test("PUBLISH QoS 3 is malformed, DUP with QoS 0 a protocol error")
    func publishFlags() {
        expect(Self.packet(0x36, Self.s("t") + [0x00, 0x01]), Self.server311, .invalidQoS(.publish), .malformedPacket)
        expect(Self.packet(0x38, Self.s("t")), Self.server311, .duplicateFlagWithQoS0, .protocolError)
        expectAccepted(Self.packet(0x3B, Self.s("t") + [0x00, 0x01]), Self.server311)
    }

    @Test("state and direction: CONNECT first and once, no packets of the other direction")
    func unexpectedPackets() throws {
        expect([0xC0, 0x00], MQTTDecoder(), .unexpectedPacket(.pingreq), .protocolError)
        let connect = try Support.encode(.connect(MQTTConnect(protocolVersion: .v5, clientIdentifier: "c")), version: .v5)
        let twice = Array(connect.readableBytesView) + Array(connect.readableBytesView)
        expect(twice, MQTTDecoder(), .unexpectedPacket(.connect), .protocolError)
        expect([0x20, 0x02, 0x00, 0x00], Self.server5, .unexpectedPacket(.connack), .protocolError)
        expect([0xD0, 0x00], Self.server311, .unexpectedPacket(.pingresp), .protocolError)
        expect([0xC0, 0x00], Self.client5, .unexpectedPacket(.pingreq), .protocolError)
        expect(Self.packet(0x82, [0x00, 0x01] + Self.s("a") + [0x00]), Self.client5, .unexpectedPacket(.subscribe), .protocolError)
    }

    @Test("trailing bytes and truncated fields are malformed")
    func trailingAndTruncated() {
        expect([0xC0, 0x01, 0x00], Self.server5, .trailingBytes(.pingreq, count: 1), .malformedPacket)
        expect([0x40, 0x03, 0x00, 0x01, 0x00], Self.server311, .trailingBytes(.puback, count: 1), .malformedPacket)
        expect([0xE0, 0x01, 0x00], Self.server311, .trailingBytes(.disconnect, count: 1), .malformedPacket)
        expect([0x20, 0x03, 0x00, 0x00, 0x00], MQTTDecoder(role: .client, version: .v3_1_1), .trailingBytes(.connack, count: 1), .malformedPacket)
        expect([0x30, 0x03, 0x00, 0x05, 0x61], Self.server5, .truncated(field: "topic name"), .malformedPacket)
        expect([0x40, 0x01, 0x00], Self.server5, .truncated(field: "packet identifier"), .malformedPacket)
    }

    @Test("ill-formed UTF-8, surrogates, overlongs and U+0000 are malformed")
    func utf8Rules() {
        for bad: [UInt8] in [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE0, 0x80, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0x61, 0xC3]] {
            let body = [0x00, UInt8(bad.count)] + bad
            expect(Self.packet(0x30, body), Self.server5, .invalidUTF8(field: "topic name"), .malformedPacket)
        }
        expect(Self.packet(0x30, Self.s("a\u{0}b")), Self.server5, .nullCharacter(field: "topic name"), .malformedPacket)
        expect(Self.packet(0xA2, [0x00, 0x01, 0x00] + Self.s("ok/\u{0}")), Self.server5, .nullCharacter(field: "topic filter"), .malformedPacket)
    }

    @Test("control characters and non-characters are rejected only by policy")
    func discouragedCodePoints() {
        let strict = MQTTDecoder(role: .server, version: .v5, configuration: .init(rejectDiscouragedCodePoints: true))
        // U+0001, U+007F, U+0085, U+FFFE, U+FDD0, U+1FFFF (non-characters cannot be Swift literals).
        let samples: [[UInt8]] = [
            [0x61, 0x01, 0x62], [0x7F], [0xC2, 0x85], [0xEF, 0xBF, 0xBE], [0xEF, 0xB7, 0x90], [0xF0, 0x9F, 0xBF, 0xBF],
        ]
        for text in samples {
            let bytes = Self.packet(0x30, [0x00, UInt8(text.count)] + text + [0x00])
            expect(bytes, strict, .discouragedCodePoint(field: "topic name"), .malformedPacket)
            expectAccepted(bytes, Self.server5)
        }
        expectAccepted(Self.packet(0x30, Self.s("héllo/wörld/😀") + [0x00]), strict)
    }

    @Test("topic names must not contain wildcards and must not be empty")
    func topicNames() {
        expect(Self.packet(0x30, Self.s("a/+") + [0x00]), Self.server5, .invalidTopicName("a/+"), .malformedPacket)
        expect(Self.packet(0x30, Self.s("#")), Self.server311, .invalidTopicName("#"), .malformedPacket)
        expect(Self.packet(0x30, Self.s("")), Self.server311, .emptyTopicName, .protocolError)
        expect(Self.packet(0x30, Self.s("") + [0x00]), Self.server5, .emptyTopicName, .protocolError)
        expectAccepted(Self.packet(0x30, Self.s("") + [0x03, 0x23, 0x00, 0x01]), Self.server5)
        // Response topic follows the topic name rules too.
        expect(Self.packet(0x30, Self.s("t") + [0x05, 0x08] + Self.s("r#")), Self.server5, .invalidTopicName("r#"), .malformedPacket)
    }

    @Test(
        "topic filter syntax",
        arguments: [
            ("#", true), ("+", true), ("+/+/#", true), ("a//b", true), ("/", true), ("a/+/c/#", true),
            ("sport/tennis#", false), ("a/#/b", false), ("a+", false), ("a/b+/c", false), ("", false), ("##", false),
            ("$share/g/a/#", true), ("$share/g/+", true), ("$share//a", false), ("$share/g", false),
            ("$share/g+/a", false), ("$share/g#/a", false), ("$share/g/", false), ("$share/g/a#", false),
        ] as [(String, Bool)])
    func topicFilters(filter: String, valid: Bool) {
        #expect(MQTTTopic.isValidFilter(filter) == valid)
        let subscribe = Self.packet(0x82, [0x00, 0x01, 0x00] + Self.s(filter) + [0x01])
        let unsubscribe = Self.packet(0xA2, [0x00, 0x01, 0x00] + Self.s(filter))
        if valid {
            expectAccepted(subscribe, Self.server5)
            expectAccepted(unsubscribe, Self.server5)
        } else {
            expect(subscribe, Self.server5, .invalidTopicFilter(filter), .malformedPacket)
            expect(unsubscribe, Self.server5, .invalidTopicFilter(filter), .malformedPacket)
        }
    }

    @Test("shared subscriptions parse into group and filter")
    func sharedParse() {
        #expect(MQTTTopic.sharedSubscription("$share/workers/jobs/+") == .shared(.init(group: "workers", filter: "jobs/+")))
        #expect(MQTTTopic.sharedSubscription("jobs/+") == .notShared)
        #expect(MQTTTopic.sharedSubscription("$share/workers") == .invalid)
    }
}
