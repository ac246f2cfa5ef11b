/// What packet decoding needs to know besides the bytes: the negotiated version, which side is
/// decoding, and the string/payload policies.
struct MQTTDecodingContext: Sendable {
    var version: MQTTProtocolVersion
    var role: MQTTDecoder.Role
    var rejectDiscouragedCodePoints: Bool
    var validatePayloadFormat: Bool
}
