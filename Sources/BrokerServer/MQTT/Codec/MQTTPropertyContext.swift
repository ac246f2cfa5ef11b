/// The places a v5 property may appear: one option per packet type carrying properties, plus the
/// will properties inside CONNECT.
public struct MQTTPropertyContext: OptionSet, Hashable, Sendable {
    /// One bit per context.
    public let rawValue: UInt16
    /// A set of contexts from its bits.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// CONNECT.
    public static let connect = MQTTPropertyContext(rawValue: 1 << 0)
    /// CONNACK.
    public static let connack = MQTTPropertyContext(rawValue: 1 << 1)
    /// PUBLISH.
    public static let publish = MQTTPropertyContext(rawValue: 1 << 2)
    /// The will properties inside CONNECT.
    public static let will = MQTTPropertyContext(rawValue: 1 << 3)
    /// PUBACK.
    public static let puback = MQTTPropertyContext(rawValue: 1 << 4)
    /// PUBREC.
    public static let pubrec = MQTTPropertyContext(rawValue: 1 << 5)
    /// PUBREL.
    public static let pubrel = MQTTPropertyContext(rawValue: 1 << 6)
    /// PUBCOMP.
    public static let pubcomp = MQTTPropertyContext(rawValue: 1 << 7)
    /// SUBSCRIBE.
    public static let subscribe = MQTTPropertyContext(rawValue: 1 << 8)
    /// SUBACK.
    public static let suback = MQTTPropertyContext(rawValue: 1 << 9)
    /// UNSUBSCRIBE.
    public static let unsubscribe = MQTTPropertyContext(rawValue: 1 << 10)
    /// UNSUBACK.
    public static let unsuback = MQTTPropertyContext(rawValue: 1 << 11)
    /// DISCONNECT.
    public static let disconnect = MQTTPropertyContext(rawValue: 1 << 12)
    /// AUTH.
    public static let auth = MQTTPropertyContext(rawValue: 1 << 13)

    /// Every context.
    public static let all: MQTTPropertyContext = [
        .connect, .connack, .publish, .will, .puback, .pubrec, .pubrel, .pubcomp, .subscribe, .suback,
        .unsubscribe, .unsuback, .disconnect, .auth,
    ]

    /// The context of a packet type's own property list (not the will properties).
    public init(_ type: MQTTPacketType) {
        switch type {
        case .connect: self = .connect
        case .connack: self = .connack
        case .publish: self = .publish
        case .puback: self = .puback
        case .pubrec: self = .pubrec
        case .pubrel: self = .pubrel
        case .pubcomp: self = .pubcomp
        case .subscribe: self = .subscribe
        case .suback: self = .suback
        case .unsubscribe: self = .unsubscribe
        case .unsuback: self = .unsuback
        case .disconnect: self = .disconnect
        case .auth: self = .auth
        case .pingreq, .pingresp: self = []
        }
    }
}
