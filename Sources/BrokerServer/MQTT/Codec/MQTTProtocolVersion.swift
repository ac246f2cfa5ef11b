/// The MQTT protocol revisions Tributary speaks, identified by the protocol level byte of CONNECT.
public enum MQTTProtocolVersion: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// MQTT 3.1 (protocol name `MQIsdp`, level 3).
    case v3_1 = 3
    /// MQTT 3.1.1 (protocol name `MQTT`, level 4).
    case v3_1_1 = 4
    /// MQTT 5.0 (protocol name `MQTT`, level 5).
    case v5 = 5

    /// The protocol name carried in CONNECT for this revision.
    public var protocolName: String {
        switch self {
        case .v3_1: return "MQIsdp"
        case .v3_1_1, .v5: return "MQTT"
        }
    }

    /// The revision announced by a CONNECT protocol name and level, or `nil` if unsupported.
    public init?(protocolName: String, level: UInt8) {
        switch (protocolName, level) {
        case ("MQIsdp", 3): self = .v3_1
        case ("MQTT", 4): self = .v3_1_1
        case ("MQTT", 5): self = .v5
        default: return nil
        }
    }

    /// Whether packets of this revision carry reason codes and properties.
    public var isV5: Bool { self == .v5 }

    /// The version as people write it ("3.1.1").
    public var description: String {
        switch self {
        case .v3_1: return "3.1"
        case .v3_1_1: return "3.1.1"
        case .v5: return "5.0"
        }
    }
}
