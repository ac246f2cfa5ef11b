import NIOCore

/// AUTH (5.0 only): a step of enhanced authentication or re-authentication.
public struct MQTTAuth: Hashable, Sendable {
    /// Success, Continue authentication or Re-authenticate.
    public var reasonCode: MQTTReasonCode
    /// AUTH properties: authentication method and data, reason string, user properties.
    public var properties: MQTTProperties

    /// Creates an AUTH packet.
    public init(reasonCode: MQTTReasonCode = .success, properties: MQTTProperties = MQTTProperties()) {
        self.reasonCode = reasonCode
        self.properties = properties
    }
}

extension MQTTAuth {
    init(decoding body: inout ByteBuffer, context: MQTTDecodingContext) throws(MQTTDecodeError) {
        let (code, properties) = try MQTTDisconnect.decodeReasonAndProperties(from: &body, type: .auth, context: context)
        self.init(reasonCode: code, properties: properties)
    }

    func encode(into out: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        guard version == .v5 else { throw .packetNotInVersion(.auth, version) }
        try MQTTDisconnect.encodeReasonAndProperties(reasonCode, properties, type: .auth, into: &out)
    }
}
