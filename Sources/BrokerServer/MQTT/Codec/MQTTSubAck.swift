import NIOCore

/// SUBACK: one reason code per topic filter of the SUBSCRIBE, in order.
public struct MQTTSubAck: Hashable, Sendable {
    /// The identifier of the SUBSCRIBE being answered.
    public var packetIdentifier: UInt16
    /// SUBACK properties (5.0 only).
    public var properties: MQTTProperties
    /// Granted QoS or failure per filter; 3.1.1 can only carry granted QoS and Unspecified error
    /// (its 0x80 failure), 3.1 only granted QoS.
    public var reasonCodes: [MQTTReasonCode]

    /// Creates a SUBACK.
    public init(packetIdentifier: UInt16, properties: MQTTProperties = MQTTProperties(), reasonCodes: [MQTTReasonCode]) {
        self.packetIdentifier = packetIdentifier
        self.properties = properties
        self.reasonCodes = reasonCodes
    }
}

extension MQTTSubAck {
    init(decoding body: inout ByteBuffer, context: MQTTDecodingContext) throws(MQTTDecodeError) {
        let identifier: UInt16 = try body.readMQTTInteger("packet identifier")
        guard identifier != 0 else { throw .zeroPacketIdentifier(.suback) }
        let properties =
            context.version == .v5
            ? try MQTTProperties.decode(from: &body, context: .suback, rejectDiscouraged: context.rejectDiscouragedCodePoints)
            : MQTTProperties()
        var codes: [MQTTReasonCode] = []
        codes.reserveCapacity(body.readableBytes)
        while let raw: UInt8 = body.readInteger() {
            guard let code = MQTTReasonCode(rawValue: raw),
                context.version == .v5 ? code.isAllowed(in: .suback) : code.isAllowedInV3SubAck(context.version)
            else { throw .invalidReasonCode(.suback, raw) }
            codes.append(code)
        }
        guard !codes.isEmpty else { throw .emptyPayload(.suback) }
        self.init(packetIdentifier: identifier, properties: properties, reasonCodes: codes)
    }

    func encode(into out: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        guard packetIdentifier != 0 else { throw .invalidPacketIdentifier(.suback) }
        guard !reasonCodes.isEmpty else { throw .emptyPayload(.suback) }
        out.writeInteger(packetIdentifier)
        if version == .v5 { try properties.encode(into: &out, context: .suback) }
        for code in reasonCodes {
            let allowed = version == .v5 ? code.isAllowed(in: .suback) : code.isAllowedInV3SubAck(version)
            guard allowed else { throw .reasonCodeNotAllowed(.suback, code, version) }
            out.writeInteger(code.rawValue)
        }
    }
}
