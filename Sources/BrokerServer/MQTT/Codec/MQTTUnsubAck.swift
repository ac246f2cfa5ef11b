import NIOCore

/// UNSUBACK: in 5.0 one reason code per topic filter of the UNSUBSCRIBE; in 3.1/3.1.1 only the
/// packet identifier.
public struct MQTTUnsubAck: Hashable, Sendable {
    /// The identifier of the UNSUBSCRIBE being answered.
    public var packetIdentifier: UInt16
    /// UNSUBACK properties (5.0 only).
    public var properties: MQTTProperties
    /// 5.0 only (at least one there); empty in 3.1 and 3.1.1.
    public var reasonCodes: [MQTTReasonCode]

    /// Creates an UNSUBACK.
    public init(packetIdentifier: UInt16, properties: MQTTProperties = MQTTProperties(), reasonCodes: [MQTTReasonCode] = []) {
        self.packetIdentifier = packetIdentifier
        self.properties = properties
        self.reasonCodes = reasonCodes
    }
}

extension MQTTUnsubAck {
    init(decoding body: inout ByteBuffer, context: MQTTDecodingContext) throws(MQTTDecodeError) {
        let identifier: UInt16 = try body.readMQTTInteger("packet identifier")
        guard identifier != 0 else { throw .zeroPacketIdentifier(.unsuback) }
        guard context.version == .v5 else {
            guard body.readableBytes == 0 else { throw .trailingBytes(.unsuback, count: body.readableBytes) }
            self.init(packetIdentifier: identifier)
            return
        }
        let properties = try MQTTProperties.decode(
            from: &body, context: .unsuback, rejectDiscouraged: context.rejectDiscouragedCodePoints)
        var codes: [MQTTReasonCode] = []
        codes.reserveCapacity(body.readableBytes)
        while let raw: UInt8 = body.readInteger() {
            guard let code = MQTTReasonCode(rawValue: raw), code.isAllowed(in: .unsuback) else {
                throw .invalidReasonCode(.unsuback, raw)
            }
            codes.append(code)
        }
        guard !codes.isEmpty else { throw .emptyPayload(.unsuback) }
        self.init(packetIdentifier: identifier, properties: properties, reasonCodes: codes)
    }

    func encode(into out: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        guard packetIdentifier != 0 else { throw .invalidPacketIdentifier(.unsuback) }
        out.writeInteger(packetIdentifier)
        guard version == .v5 else { return }
        guard !reasonCodes.isEmpty else { throw .emptyPayload(.unsuback) }
        try properties.encode(into: &out, context: .unsuback)
        for code in reasonCodes {
            guard code.isAllowed(in: .unsuback) else { throw .reasonCodeNotAllowed(.unsuback, code, version) }
            out.writeInteger(code.rawValue)
        }
    }
}
