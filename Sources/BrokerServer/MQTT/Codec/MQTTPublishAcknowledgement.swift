import NIOCore

/// The shared shape of PUBACK, PUBREC, PUBREL and PUBCOMP: a packet identifier and, in 5.0, a
/// reason code and properties that may be omitted when they are Success and empty.
protocol MQTTPublishAcknowledgement: Hashable, Sendable {
    static var packetType: MQTTPacketType { get }
    var packetIdentifier: UInt16 { get }
    var reasonCode: MQTTReasonCode { get }
    var properties: MQTTProperties { get }
    init(packetIdentifier: UInt16, reasonCode: MQTTReasonCode, properties: MQTTProperties)
}

extension MQTTPublishAcknowledgement {
    init(decoding body: inout ByteBuffer, context: MQTTDecodingContext) throws(MQTTDecodeError) {
        let type = Self.packetType
        let identifier: UInt16 = try body.readMQTTInteger("packet identifier")
        guard identifier != 0 else { throw .zeroPacketIdentifier(type) }
        var reasonCode = MQTTReasonCode.success
        var properties = MQTTProperties()
        if context.version == .v5 && body.readableBytes > 0 {
            let rawCode: UInt8 = try body.readMQTTInteger("reason code")
            guard let code = MQTTReasonCode(rawValue: rawCode), code.isAllowed(in: type) else {
                throw .invalidReasonCode(type, rawCode)
            }
            reasonCode = code
            if body.readableBytes > 0 {
                properties = try MQTTProperties.decode(
                    from: &body, context: MQTTPropertyContext(type), rejectDiscouraged: context.rejectDiscouragedCodePoints)
            }
        }
        guard body.readableBytes == 0 else { throw .trailingBytes(type, count: body.readableBytes) }
        self.init(packetIdentifier: identifier, reasonCode: reasonCode, properties: properties)
    }

    /// Writes the variable header; v3 drops reason code and properties, v5 omits them when they
    /// are Success and empty (the shortest form the specification allows).
    func encode(into out: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        let type = Self.packetType
        guard packetIdentifier != 0 else { throw .invalidPacketIdentifier(type) }
        out.writeInteger(packetIdentifier)
        guard version == .v5 else { return }
        guard reasonCode.isAllowed(in: type) else { throw .reasonCodeNotAllowed(type, reasonCode, version) }
        let hasProperties = !properties.isEmpty
        guard reasonCode != .success || hasProperties else { return }
        out.writeInteger(reasonCode.rawValue)
        if hasProperties { try properties.encode(into: &out, context: MQTTPropertyContext(type)) }
    }
}
