/// The control packet type, the high nibble of the fixed header's first byte.
public enum MQTTPacketType: UInt8, Hashable, Sendable, CaseIterable {
    case connect = 1
    case connack = 2
    case publish = 3
    case puback = 4
    case pubrec = 5
    case pubrel = 6
    case pubcomp = 7
    case subscribe = 8
    case suback = 9
    case unsubscribe = 10
    case unsuback = 11
    case pingreq = 12
    case pingresp = 13
    case disconnect = 14
    /// MQTT 5.0 only; reserved in 3.1 and 3.1.1.
    case auth = 15

    /// The fixed-header flags every packet but PUBLISH must carry.
    var requiredFlags: UInt8 {
        switch self {
        case .pubrel, .subscribe, .unsubscribe: return 0b0010
        default: return 0
        }
    }

    /// Whether a client may send this packet (used by the server-side decoder).
    var isSentByClient: Bool {
        switch self {
        case .connack, .suback, .unsuback, .pingresp: return false
        default: return true
        }
    }

    /// Whether a server may send this packet (used by the client-side decoder).
    var isSentByServer: Bool {
        switch self {
        case .connect, .subscribe, .unsubscribe, .pingreq: return false
        default: return true
        }
    }

    /// Whether the packet exists in `version`.
    func exists(in version: MQTTProtocolVersion) -> Bool {
        self != .auth || version == .v5
    }
}
