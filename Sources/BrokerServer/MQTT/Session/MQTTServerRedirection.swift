/// An operator's instruction to send clients to another server (MQTT 5.0 §4.11): every CONNECT is
/// refused with Use Another Server (0x9C) or Server Moved (0x9D) and a Server Reference; 3.x
/// clients, which have no redirection, get return code 3 (Server unavailable).
public struct MQTTServerRedirection: Hashable, Sendable {
    /// Where clients should connect instead (`host[:port]`, several separated by spaces).
    public var serverReference: String
    /// Server Moved (permanent, 0x9D) rather than Use Another Server (temporary, 0x9C).
    public var permanent: Bool

    /// A redirection.
    public init(serverReference: String, permanent: Bool = false) {
        self.serverReference = serverReference
        self.permanent = permanent
    }

    /// The CONNACK reason code a 5.0 client gets.
    public var reasonCode: MQTTReasonCode { permanent ? .serverMoved : .useAnotherServer }

    /// The CONNACK that refuses a client of `version`.
    public func connAck(for version: MQTTProtocolVersion) -> MQTTConnAck {
        guard version == .v5 else { return MQTTConnAck(reasonCode: .serverUnavailable) }
        var properties = MQTTProperties()
        properties.serverReference = serverReference
        return MQTTConnAck(reasonCode: reasonCode, properties: properties)
    }
}
