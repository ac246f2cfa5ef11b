/// Why the encoder refused to write a packet. The encoder never writes bytes its own decoder
/// would reject for these reasons; on error the output buffer is left as it was.
public enum MQTTEncodeError: Error, Hashable, Sendable {
    /// A UTF-8 string longer than 65,535 bytes.
    case stringTooLong(field: String, length: Int)
    /// Binary data longer than 65,535 bytes.
    case binaryDataTooLong(field: String, length: Int)
    /// A remaining length above 268,435,455.
    case remainingLengthTooLarge(Int)
    /// The encoded packet exceeds the peer's maximum packet size.
    case packetTooLarge(size: Int, limit: Int)
    /// The packet type does not exist in the version (AUTH before 5.0).
    case packetNotInVersion(MQTTPacketType, MQTTProtocolVersion)
    /// A property the specification does not allow in this packet.
    case propertyNotAllowed(MQTTPropertyIdentifier, in: MQTTPropertyContext)
    /// A property value the decoder would reject (zero, out of range, repeated).
    case invalidPropertyValue(MQTTPropertyIdentifier)
    /// A reason code the packet cannot carry in this version.
    case reasonCodeNotAllowed(MQTTPacketType, MQTTReasonCode, MQTTProtocolVersion)
    /// A missing or zero packet identifier where one is required, or one given for QoS 0.
    case invalidPacketIdentifier(MQTTPacketType)
    /// PUBLISH with DUP set and QoS 0.
    case duplicateFlagWithQoS0
    /// PUBLISH or will topic not a valid topic name.
    case invalidTopicName(String)
    /// A topic filter breaking the filter syntax.
    case invalidTopicFilter(String)
    /// SUBSCRIBE/UNSUBSCRIBE without filters or SUBACK/UNSUBACK without codes.
    case emptyPayload(MQTTPacketType)
    /// A subscription option the version cannot express.
    case subscriptionOptionsNotRepresentable
    /// A CONNECT combination the version cannot express (password without user name before 5.0).
    case connectFlagsNotRepresentable
}
