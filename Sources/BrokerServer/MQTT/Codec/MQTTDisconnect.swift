import NIOCore

/// DISCONNECT: the last packet of a connection (from the client in every version, from the
/// server too in 5.0).
public struct MQTTDisconnect: Hashable, Sendable {
    /// 5.0 only; Normal disconnection in 3.1 and 3.1.1.
    public var reasonCode: MQTTReasonCode
    /// DISCONNECT properties (5.0 only).
    public var properties: MQTTProperties

    /// Creates a DISCONNECT; the default is a normal disconnection.
    public init(reasonCode: MQTTReasonCode = .normalDisconnection, properties: MQTTProperties = MQTTProperties()) {
        self.reasonCode = reasonCode
        self.properties = properties
    }
}

extension MQTTDisconnect {
    init(decoding body: inout ByteBuffer, context: MQTTDecodingContext) throws(MQTTDecodeError) {
        let (code, properties) = try Self.decodeReasonAndProperties(from: &body, type: .disconnect, context: context)
        self.init(reasonCode: code, properties: properties)
    }

    func encode(into out: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        guard version == .v5 else { return }
        try Self.encodeReasonAndProperties(reasonCode, properties, type: .disconnect, into: &out)
    }

    /// The layout DISCONNECT and AUTH share: nothing (Success, no properties), a reason code, or
    /// a reason code and properties. Before 5.0 the body must be empty.
    static func decodeReasonAndProperties(
        from body: inout ByteBuffer,
        type: MQTTPacketType,
        context: MQTTDecodingContext
    ) throws(MQTTDecodeError) -> (MQTTReasonCode, MQTTProperties) {
        var code = MQTTReasonCode.success
        var properties = MQTTProperties()
        if context.version == .v5, let raw: UInt8 = body.readInteger() {
            guard let decoded = MQTTReasonCode(rawValue: raw), decoded.isAllowed(in: type) else {
                throw .invalidReasonCode(type, raw)
            }
            code = decoded
            if body.readableBytes > 0 {
                properties = try MQTTProperties.decode(
                    from: &body, context: MQTTPropertyContext(type), rejectDiscouraged: context.rejectDiscouragedCodePoints)
            }
        }
        guard body.readableBytes == 0 else { throw .trailingBytes(type, count: body.readableBytes) }
        return (code, properties)
    }

    static func encodeReasonAndProperties(
        _ code: MQTTReasonCode,
        _ properties: MQTTProperties,
        type: MQTTPacketType,
        into out: inout ByteBuffer
    ) throws(MQTTEncodeError) {
        guard code.isAllowed(in: type) else { throw .reasonCodeNotAllowed(type, code, .v5) }
        let hasProperties = !properties.isEmpty
        guard code != .success || hasProperties else { return }
        out.writeInteger(code.rawValue)
        if hasProperties { try properties.encode(into: &out, context: MQTTPropertyContext(type)) }
    }
}
