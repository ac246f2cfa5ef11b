import NIOCore

/// CONNACK: the server's answer to CONNECT. The result is always a v5 reason code; for 3.1 and
/// 3.1.1 it travels as the matching ``MQTTConnectReturnCode``.
public struct MQTTConnAck: Hashable, Sendable {
    /// Session Present (always false in 3.1, and with any failure code).
    public var sessionPresent: Bool
    /// The result: Success or the failure; before 5.0 one with an ``MQTTConnectReturnCode``.
    public var reasonCode: MQTTReasonCode
    /// CONNACK properties (5.0 only).
    public var properties: MQTTProperties

    /// Creates a CONNACK; the defaults accept the connection without a session.
    public init(sessionPresent: Bool = false, reasonCode: MQTTReasonCode = .success, properties: MQTTProperties = MQTTProperties()) {
        self.sessionPresent = sessionPresent
        self.reasonCode = reasonCode
        self.properties = properties
    }
}

extension MQTTConnAck {
    init(decoding body: inout ByteBuffer, context: MQTTDecodingContext) throws(MQTTDecodeError) {
        let flags: UInt8 = try body.readMQTTInteger("connect acknowledge flags")
        let allowedFlags: UInt8 = context.version == .v3_1 ? 0 : 0x01
        guard flags & ~allowedFlags == 0 else { throw .invalidConnAckFlags(flags) }
        let rawCode: UInt8 = try body.readMQTTInteger("connect reason code")
        let reasonCode: MQTTReasonCode
        if context.version == .v5 {
            guard let code = MQTTReasonCode(rawValue: rawCode), code.isAllowed(in: .connack) else {
                throw .invalidReasonCode(.connack, rawCode)
            }
            reasonCode = code
        } else {
            guard let code = MQTTConnectReturnCode(rawValue: rawCode) else {
                throw .invalidReasonCode(.connack, rawCode)
            }
            reasonCode = code.reasonCode
        }
        let sessionPresent = flags & 0x01 != 0
        if sessionPresent && reasonCode.isFailure { throw .sessionPresentWithFailure }
        let properties =
            context.version == .v5
            ? try MQTTProperties.decode(from: &body, context: .connack, rejectDiscouraged: context.rejectDiscouragedCodePoints)
            : MQTTProperties()
        guard body.readableBytes == 0 else { throw .trailingBytes(.connack, count: body.readableBytes) }
        self.init(sessionPresent: sessionPresent, reasonCode: reasonCode, properties: properties)
    }

    func encode(into out: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        let rawCode: UInt8
        if version == .v5 {
            guard reasonCode.isAllowed(in: .connack) else { throw .reasonCodeNotAllowed(.connack, reasonCode, version) }
            rawCode = reasonCode.rawValue
        } else {
            guard let code = MQTTConnectReturnCode(reasonCode: reasonCode) else {
                throw .reasonCodeNotAllowed(.connack, reasonCode, version)
            }
            rawCode = code.rawValue
        }
        if sessionPresent && (reasonCode.isFailure || version == .v3_1) {
            throw .reasonCodeNotAllowed(.connack, reasonCode, version)
        }
        out.writeInteger(UInt8(sessionPresent ? 1 : 0))
        out.writeInteger(rawCode)
        if version == .v5 { try properties.encode(into: &out, context: .connack) }
    }
}
