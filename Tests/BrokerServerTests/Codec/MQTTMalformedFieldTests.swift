import NIOCore
import Testing

@testable import BrokerServer

/// CONNECT, SUBSCRIBE, property and reason-code rules: each violation yields its specific error
/// and reason code (and CONNACK return code for 3.1/3.1.1 where one exists).
@Suite("MQTT malformed packets: CONNECT, subscriptions, properties, reason codes")
struct MQTTMalformedFieldTests {
    typealias Support = MQTTCodecTestSupport
    typealias Bytes = MQTTMalformedPacketTests

    static let server5 = MQTTDecoder(role: .server, version: .v5)
    static let server311 = MQTTDecoder(role: .server, version: .v3_1_1)
    static let client5 = MQTTDecoder(role: .client, version: .v5)
    static let client311 = MQTTDecoder(role: .client, version: .v3_1_1)

    func expect(
        _ bytes: [UInt8], _ decoder: MQTTDecoder, _ error: MQTTDecodeError, _ reason: MQTTReasonCode,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let actual = Support.decodeError(bytes, with: decoder)
        #expect(actual == error, sourceLocation: sourceLocation)
        #expect(actual?.reasonCode == reason, sourceLocation: sourceLocation)
    }

    func accepted(_ bytes: [UInt8], _ decoder: MQTTDecoder) -> MQTTPacket? {
        try? Support.decodeOne(Support.buffer(bytes), with: decoder)
    }

    /// A CONNECT with the given name, level, flags, properties (v5) and payload fields.
    static func connect(
        name: String = "MQTT", level: UInt8 = 4, flags: UInt8 = 0x02, properties: [UInt8]? = nil, payload: [UInt8]
    ) -> [UInt8] {
        let header = Bytes.s(name) + [level, flags, 0x00, 0x3C] + (properties.map { [UInt8($0.count)] + $0 } ?? [])
        return Bytes.packet(0x10, header + payload)
    }

    // MARK: CONNECT

    @Test("unsupported protocol names and levels answer 0x84 / return code 1")
    func unsupportedVersion() {
        for (name, level) in [("MQTT", UInt8(6)), ("MQTT", 3), ("MQIsdp", 4), ("HTTP", 4)] {
            let bytes = Self.connect(name: name, level: level, payload: Bytes.s("c"))
            let error = Support.decodeError(bytes, with: MQTTDecoder())
            #expect(error == .unsupportedProtocolVersion(name: name, level: level))
            #expect(error?.reasonCode == .unsupportedProtocolVersion)
            #expect(error?.connectReturnCode == .unacceptableProtocolVersion)
        }
    }

    @Test("CONNECT reserved flag is malformed")
    func reservedFlag() {
        expect(Self.connect(flags: 0x03, payload: Bytes.s("c")), MQTTDecoder(), .connectReservedFlag, .malformedPacket)
    }

    @Test("will QoS and retain need the will flag; will QoS 3 is malformed")
    func willFlags() {
        expect(Self.connect(flags: 0x0A, payload: Bytes.s("c")), MQTTDecoder(), .willFlagsWithoutWill, .protocolError)
        expect(Self.connect(flags: 0x22, payload: Bytes.s("c")), MQTTDecoder(), .willFlagsWithoutWill, .protocolError)
        expect(Self.connect(flags: 0x1E, payload: Bytes.s("c") + Bytes.s("w") + Bytes.s("m")), MQTTDecoder(), .invalidQoS(.connect), .malformedPacket)
        expect(Self.connect(flags: 0x06, payload: Bytes.s("c") + Bytes.s("w/#") + Bytes.s("m")), MQTTDecoder(), .invalidTopicName("w/#"), .malformedPacket)
        #expect(accepted(Self.connect(flags: 0x36, payload: Bytes.s("c") + Bytes.s("w") + Bytes.s("m")), MQTTDecoder()) != nil)
    }

    @Test("password without user name is a protocol error before 5.0 only")
    func passwordWithoutUserName() {
        expect(Self.connect(flags: 0x42, payload: Bytes.s("c") + Bytes.s("pw")), MQTTDecoder(), .passwordWithoutUserName, .protocolError)
        expect(Self.connect(name: "MQIsdp", level: 3, flags: 0x42, payload: Bytes.s("c") + Bytes.s("pw")), MQTTDecoder(), .passwordWithoutUserName, .protocolError)
        let v5 = accepted(Self.connect(level: 5, flags: 0x42, properties: [], payload: Bytes.s("c") + Bytes.s("pw")), MQTTDecoder())
        #expect(v5 == .connect(MQTTConnect(protocolVersion: .v5, keepAlive: 60, clientIdentifier: "c", password: Support.buffer("pw"))))
    }

    @Test("client identifier rules per version")
    func clientIdentifiers() {
        let empty311 = Support.decodeError(Self.connect(flags: 0x00, payload: Bytes.s("")), with: MQTTDecoder())
        #expect(empty311 == .clientIdentifierNotValid(""))
        #expect(empty311?.reasonCode == .clientIdentifierNotValid)
        #expect(empty311?.connectReturnCode == .identifierRejected)
        #expect(accepted(Self.connect(flags: 0x02, payload: Bytes.s("")), MQTTDecoder()) != nil)
        let long = String(repeating: "x", count: 24)
        expect(Self.connect(name: "MQIsdp", level: 3, payload: Bytes.s(long)), MQTTDecoder(), .clientIdentifierNotValid(long), .clientIdentifierNotValid)
        expect(Self.connect(name: "MQIsdp", level: 3, payload: Bytes.s("")), MQTTDecoder(), .clientIdentifierNotValid(""), .clientIdentifierNotValid)
        #expect(accepted(Self.connect(name: "MQIsdp", level: 3, payload: Bytes.s(String(long.dropLast()))), MQTTDecoder()) != nil)
        #expect(accepted(Self.connect(level: 5, flags: 0x00, properties: [], payload: Bytes.s("")), MQTTDecoder()) != nil)
    }

    @Test("payload format indicator 1 requires a UTF-8 will payload")
    func willPayloadFormat() {
        let willProperties: [UInt8] = [0x02, 0x01, 0x01]
        let bytes = Self.connect(level: 5, flags: 0x06, properties: [], payload: Bytes.s("c") + willProperties + Bytes.s("w") + [0x00, 0x02, 0xC3, 0x28])
        expect(bytes, MQTTDecoder(), .payloadFormatInvalid, .payloadFormatInvalid)
        let lenient = MQTTDecoder(configuration: .init(validatePayloadFormat: false))
        #expect(accepted(bytes, lenient) != nil)
    }

    @Test("authentication data without method is a protocol error")
    func authenticationData() {
        expect(Self.connect(level: 5, properties: [0x16, 0x00, 0x01, 0xAA], payload: Bytes.s("c")), MQTTDecoder(),
            .authenticationDataWithoutMethod, .protocolError)
    }

    // MARK: SUBSCRIBE / UNSUBSCRIBE

    @Test("packet identifiers must be non-zero")
    func zeroPacketIdentifiers() {
        expect(Bytes.packet(0x32, Bytes.s("t") + [0x00, 0x00, 0x00]), Self.server5, .zeroPacketIdentifier(.publish), .protocolError)
        expect(Bytes.packet(0x82, [0x00, 0x00] + Bytes.s("t") + [0x00]), Self.server311, .zeroPacketIdentifier(.subscribe), .protocolError)
        expect(Bytes.packet(0xA2, [0x00, 0x00] + Bytes.s("t")), Self.server311, .zeroPacketIdentifier(.unsubscribe), .protocolError)
        expect([0x40, 0x02, 0x00, 0x00], Self.server311, .zeroPacketIdentifier(.puback), .protocolError)
        expect([0x62, 0x02, 0x00, 0x00], Self.server5, .zeroPacketIdentifier(.pubrel), .protocolError)
    }

    @Test("SUBSCRIBE and UNSUBSCRIBE need at least one filter; acks at least one code")
    func emptyPayloads() {
        expect([0x82, 0x02, 0x00, 0x01], Self.server311, .emptyPayload(.subscribe), .protocolError)
        expect([0x82, 0x03, 0x00, 0x01, 0x00], Self.server5, .emptyPayload(.subscribe), .protocolError)
        expect([0xA2, 0x02, 0x00, 0x01], Self.server311, .emptyPayload(.unsubscribe), .protocolError)
        expect([0x90, 0x02, 0x00, 0x01], Self.client311, .emptyPayload(.suback), .protocolError)
        expect([0xB0, 0x03, 0x00, 0x01, 0x00], Self.client5, .emptyPayload(.unsuback), .protocolError)
    }

    @Test("subscription options: reserved bits, QoS 3, retain handling 3, No Local on shared")
    func subscriptionOptions() {
        let v5 = { (options: UInt8, filter: String) in Bytes.packet(0x82, [0x00, 0x01, 0x00] + Bytes.s(filter) + [options]) }
        expect(v5(0x40, "t"), Self.server5, .subscriptionOptionsReservedBits(0x40), .malformedPacket)
        expect(v5(0x80, "t"), Self.server5, .subscriptionOptionsReservedBits(0x80), .malformedPacket)
        expect(v5(0x03, "t"), Self.server5, .invalidSubscriptionQoS, .protocolError)
        expect(v5(0x30, "t"), Self.server5, .invalidRetainHandling, .protocolError)
        expect(v5(0x04, "$share/g/t"), Self.server5, .noLocalOnSharedSubscription, .protocolError)
        let v311 = Bytes.packet(0x82, [0x00, 0x01] + Bytes.s("t") + [0x04])
        expect(v311, Self.server311, .subscriptionOptionsReservedBits(0x04), .malformedPacket)
        expect(Bytes.packet(0x82, [0x00, 0x01] + Bytes.s("t") + [0x03]), Self.server311, .invalidSubscriptionQoS, .protocolError)
    }

    // MARK: Properties

    @Test("property rules: unknown, not allowed, duplicated, out of range, overlong")
    func properties() {
        let publish = { (properties: [UInt8]) in Bytes.packet(0x30, Bytes.s("t") + [UInt8(properties.count)] + properties) }
        expect(publish([0x7F, 0x00]), Self.server5, .unknownProperty(0x7F), .malformedPacket)
        expect(publish([0x11, 0, 0, 0, 1]), Self.server5, .propertyNotAllowed(.sessionExpiryInterval, in: .publish), .malformedPacket)
        expect(publish([0x18, 0, 0, 0, 1]), Self.server5, .propertyNotAllowed(.willDelayInterval, in: .publish), .malformedPacket)
        expect(publish([0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 2]), Self.server5, .duplicateProperty(.messageExpiryInterval), .protocolError)
        expect(publish([0x01, 0x02]), Self.server5, .invalidPropertyValue(.payloadFormatIndicator), .protocolError)
        expect(publish([0x23, 0x00, 0x00]), Self.server5, .invalidPropertyValue(.topicAlias), .topicAliasInvalid)
        expect(publish([0x0B, 0x01]), Self.server5, .subscriptionIdentifierFromClient, .protocolError)
        expect(publish([0x0B, 0x00]), Self.client5, .invalidPropertyValue(.subscriptionIdentifier), .protocolError)
        #expect(accepted(publish([0x0B, 0x01, 0x0B, 0x02, 0x26] + Bytes.s("a") + Bytes.s("b") + [0x26] + Bytes.s("a") + Bytes.s("b")), Self.client5) != nil)
        // Property values cut off by the end of the property list.
        expect(publish([0x02, 0x00, 0x01]), Self.server5, .truncated(field: "property messageExpiryInterval"), .malformedPacket)
        // A property length running past the end of the packet.
        expect(Bytes.packet(0x40, [0x00, 0x01, 0x00, 0x0A, 0x1F]), Self.server5, .propertiesExceedPacket(declared: 10, available: 1), .malformedPacket)

        let subscribe = Bytes.packet(0x82, [0x00, 0x01, 0x04, 0x0B, 0x01, 0x0B, 0x02] + Bytes.s("t") + [0x00])
        expect(subscribe, Self.server5, .duplicateProperty(.subscriptionIdentifier), .protocolError)

        let connack = { (properties: [UInt8]) in Bytes.packet(0x20, [0x00, 0x00, UInt8(properties.count)] + properties) }
        expect(connack([0x21, 0x00, 0x00]), Self.client5, .invalidPropertyValue(.receiveMaximum), .protocolError)
        expect(connack([0x24, 0x02]), Self.client5, .invalidPropertyValue(.maximumQoS), .protocolError)
        expect(connack([0x25, 0x02]), Self.client5, .invalidPropertyValue(.retainAvailable), .protocolError)
        expect(connack([0x27, 0, 0, 0, 0]), Self.client5, .invalidPropertyValue(.maximumPacketSize), .protocolError)
        expect(connack([0x1F] + Bytes.s("x") + [0x1F] + Bytes.s("y")), Self.client5, .duplicateProperty(.reasonString), .protocolError)
        expect(connack([0x17, 0x01]), Self.client5, .propertyNotAllowed(.requestProblemInformation, in: .connack), .malformedPacket)
        expect(Self.connect(level: 5, properties: [0x17, 0x02], payload: Bytes.s("c")), MQTTDecoder(),
            .invalidPropertyValue(.requestProblemInformation), .protocolError)
    }

    @Test("payload format indicator 1 requires a UTF-8 PUBLISH payload")
    func publishPayloadFormat() {
        let bytes = Bytes.packet(0x30, Bytes.s("t") + [0x02, 0x01, 0x01, 0xED, 0xA0, 0x80])
        expect(bytes, Self.server5, .payloadFormatInvalid, .payloadFormatInvalid)
        #expect(accepted(Bytes.packet(0x30, Bytes.s("t") + [0x02, 0x01, 0x00, 0xED, 0xA0, 0x80]), Self.server5) != nil)
    }

    // MARK: Reason codes

    @Test("reason codes must be defined for their packet")
    func reasonCodes() {
        expect([0x40, 0x03, 0x00, 0x01, 0x05], Self.server5, .invalidReasonCode(.puback, 0x05), .protocolError)
        expect([0x62, 0x03, 0x00, 0x01, 0x10], Self.server5, .invalidReasonCode(.pubrel, 0x10), .protocolError)
        expect([0xE0, 0x01, 0x18], Self.server5, .invalidReasonCode(.disconnect, 0x18), .protocolError)
        expect([0xF0, 0x01, 0x80], Self.server5, .invalidReasonCode(.auth, 0x80), .protocolError)
        expect([0x20, 0x02, 0x00, 0x06], Self.client311, .invalidReasonCode(.connack, 0x06), .protocolError)
        expect([0x20, 0x03, 0x00, 0x01, 0x00], Self.client5, .invalidReasonCode(.connack, 0x01), .protocolError)
        expect([0x90, 0x03, 0x00, 0x01, 0x80], MQTTDecoder(role: .client, version: .v3_1), .invalidReasonCode(.suback, 0x80), .protocolError)
        expect([0x90, 0x03, 0x00, 0x01, 0x03], Self.client311, .invalidReasonCode(.suback, 0x03), .protocolError)
        expect([0xB0, 0x04, 0x00, 0x01, 0x00, 0x02], Self.client5, .invalidReasonCode(.unsuback, 0x02), .protocolError)
    }

    @Test("CONNACK flags: reserved bits malformed, session present with failure a protocol error")
    func connackFlags() {
        expect([0x20, 0x02, 0x02, 0x00], Self.client311, .invalidConnAckFlags(0x02), .malformedPacket)
        expect([0x20, 0x02, 0x01, 0x00], MQTTDecoder(role: .client, version: .v3_1), .invalidConnAckFlags(0x01), .malformedPacket)
        expect([0x20, 0x02, 0x01, 0x05], Self.client311, .sessionPresentWithFailure, .protocolError)
        expect([0x20, 0x03, 0x01, 0x87, 0x00], Self.client5, .sessionPresentWithFailure, .protocolError)
        #expect(accepted([0x20, 0x02, 0x00, 0x05], Self.client311) == .connack(MQTTConnAck(reasonCode: .notAuthorized)))
    }
}
