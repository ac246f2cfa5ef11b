/// The quality-of-service level of a PUBLISH, a will message or a subscription.
public enum MQTTQoS: UInt8, Hashable, Sendable, CaseIterable, Comparable {
    case atMostOnce = 0
    case atLeastOnce = 1
    case exactlyOnce = 2

    /// Orders by level.
    public static func < (lhs: MQTTQoS, rhs: MQTTQoS) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The value of the v5 Payload Format Indicator property.
public enum MQTTPayloadFormat: UInt8, Hashable, Sendable, CaseIterable {
    /// Unspecified bytes.
    case unspecified = 0
    /// UTF-8 encoded character data; the receiver may validate it.
    case utf8 = 1
}
