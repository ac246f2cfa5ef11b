/// Why the decoder rejected the bytes it received. Every case names the rule that was broken and
/// maps to the v5 ``reasonCode`` the session layer sends (in CONNACK before the connection is
/// accepted, in DISCONNECT after), and for CONNECT failures to the 3.1/3.1.1
/// ``connectReturnCode``. After any of these errors the connection must be closed.
public enum MQTTDecodeError: Error, Hashable, Sendable {
    // MARK: Framing
    /// A Variable Byte Integer with a continuation bit on its fourth byte.
    case variableByteIntegerTooLong
    /// A Variable Byte Integer not in its shortest form.
    case variableByteIntegerNotMinimal
    /// The whole packet (fixed header + remaining length) exceeds the configured maximum.
    case packetTooLarge(size: Int, limit: Int)
    /// Packet type 0, or type 15 (AUTH) before 5.0.
    case reservedPacketType(UInt8)
    /// Fixed-header flags differ from the ones the packet type requires.
    case invalidFixedHeaderFlags(MQTTPacketType, flags: UInt8)
    /// A field runs past the end of the packet.
    case truncated(field: String)
    /// Bytes left over after the last field of a packet.
    case trailingBytes(MQTTPacketType, count: Int)
    /// A packet this peer may not send in the current state (not CONNECT first, a second CONNECT,
    /// or a packet of the other direction).
    case unexpectedPacket(MQTTPacketType)

    // MARK: Fields
    /// PUBLISH QoS bits or will QoS set to 3.
    case invalidQoS(MQTTPacketType)
    /// PUBLISH with the DUP flag set and QoS 0.
    case duplicateFlagWithQoS0
    /// A UTF-8 string field that is not well-formed UTF-8 (including surrogates and overlongs).
    case invalidUTF8(field: String)
    /// A UTF-8 string field containing U+0000.
    case nullCharacter(field: String)
    /// A control character or non-character, rejected only when the policy asks for it.
    case discouragedCodePoint(field: String)
    /// A topic name with a wildcard character (PUBLISH, will topic, response topic).
    case invalidTopicName(String)
    /// A zero-length topic name without a topic alias.
    case emptyTopicName
    /// A topic filter or shared subscription filter that breaks the filter syntax.
    case invalidTopicFilter(String)
    /// No Local set on a shared subscription.
    case noLocalOnSharedSubscription
    /// A zero packet identifier where one is required.
    case zeroPacketIdentifier(MQTTPacketType)
    /// SUBSCRIBE or UNSUBSCRIBE without topic filters, SUBACK or UNSUBACK without codes.
    case emptyPayload(MQTTPacketType)
    /// Reserved bits set in a subscription options byte (or requested QoS byte before 5.0).
    case subscriptionOptionsReservedBits(UInt8)
    /// A subscription requesting QoS 3.
    case invalidSubscriptionQoS
    /// A Retain Handling value of 3.
    case invalidRetainHandling

    // MARK: CONNECT / CONNACK
    /// A protocol name/level pair this server does not speak.
    case unsupportedProtocolVersion(name: String, level: UInt8)
    /// The CONNECT reserved flag is set.
    case connectReservedFlag
    /// Will QoS or will retain set without the will flag.
    case willFlagsWithoutWill
    /// The password flag without the user name flag, before 5.0.
    case passwordWithoutUserName
    /// A client identifier the version's rules reject.
    case clientIdentifierNotValid(String)
    /// CONNACK acknowledge flags with reserved bits set.
    case invalidConnAckFlags(UInt8)
    /// CONNACK with session present and a failure code.
    case sessionPresentWithFailure

    // MARK: Reason codes and properties
    /// A reason (or return) code not defined for the packet type.
    case invalidReasonCode(MQTTPacketType, UInt8)
    /// Payload format indicator 1 with a payload that is not valid UTF-8.
    case payloadFormatInvalid
    /// A property identifier the specification does not define.
    case unknownProperty(Int)
    /// A property not allowed in this packet (or in the will).
    case propertyNotAllowed(MQTTPropertyIdentifier, in: MQTTPropertyContext)
    /// A non-repeatable property given more than once.
    case duplicateProperty(MQTTPropertyIdentifier)
    /// A property value out of its allowed range (e.g. Receive Maximum 0, boolean 2).
    case invalidPropertyValue(MQTTPropertyIdentifier)
    /// Property length running past the end of the packet.
    case propertiesExceedPacket(declared: Int, available: Int)
    /// Authentication data without an authentication method.
    case authenticationDataWithoutMethod
    /// A Subscription Identifier in a PUBLISH sent by a client.
    case subscriptionIdentifierFromClient

    /// The v5 reason code to answer with.
    public var reasonCode: MQTTReasonCode {
        switch self {
        case .packetTooLarge: return .packetTooLarge
        case .unsupportedProtocolVersion: return .unsupportedProtocolVersion
        case .clientIdentifierNotValid: return .clientIdentifierNotValid
        case .payloadFormatInvalid: return .payloadFormatInvalid
        // MQTT 5.0 §3.3.2.3.4: "A Topic Alias value of 0 or greater than the Maximum Topic Alias
        // is a Protocol Error, the receiver uses DISCONNECT with Reason Code of 0x94".
        case .invalidPropertyValue(.topicAlias): return .topicAliasInvalid
        case .variableByteIntegerTooLong, .variableByteIntegerNotMinimal, .reservedPacketType,
            .invalidFixedHeaderFlags, .truncated, .trailingBytes, .invalidQoS, .invalidUTF8, .nullCharacter,
            .discouragedCodePoint, .invalidTopicName, .invalidTopicFilter, .subscriptionOptionsReservedBits,
            .connectReservedFlag, .invalidConnAckFlags, .unknownProperty, .propertyNotAllowed,
            .propertiesExceedPacket:
            return .malformedPacket
        case .unexpectedPacket, .duplicateFlagWithQoS0, .emptyTopicName, .noLocalOnSharedSubscription,
            .zeroPacketIdentifier, .emptyPayload, .invalidSubscriptionQoS, .invalidRetainHandling,
            .willFlagsWithoutWill, .passwordWithoutUserName, .sessionPresentWithFailure, .invalidReasonCode,
            .duplicateProperty, .invalidPropertyValue, .authenticationDataWithoutMethod,
            .subscriptionIdentifierFromClient:
            return .protocolError
        }
    }

    /// The 3.1/3.1.1 CONNACK return code to answer a failed CONNECT with, if there is one; for
    /// the other errors a v3 server just closes the connection.
    public var connectReturnCode: MQTTConnectReturnCode? {
        switch self {
        case .unsupportedProtocolVersion: return .unacceptableProtocolVersion
        case .clientIdentifierNotValid: return .identifierRejected
        default: return nil
        }
    }
}
