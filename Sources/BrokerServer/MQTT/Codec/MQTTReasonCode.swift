/// Every MQTT 5.0 reason code (OASIS MQTT 5.0, section 2.4), named as the specification names
/// them. Values the specification gives several names (0x00 is "Success", "Normal
/// disconnection" and "Granted QoS 0") have one case and static aliases for the other names.
public enum MQTTReasonCode: UInt8, Hashable, Sendable, CaseIterable {
    case success = 0x00
    case grantedQoS1 = 0x01
    case grantedQoS2 = 0x02
    case disconnectWithWillMessage = 0x04
    case noMatchingSubscribers = 0x10
    case noSubscriptionExisted = 0x11
    case continueAuthentication = 0x18
    case reAuthenticate = 0x19
    case unspecifiedError = 0x80
    case malformedPacket = 0x81
    case protocolError = 0x82
    case implementationSpecificError = 0x83
    case unsupportedProtocolVersion = 0x84
    case clientIdentifierNotValid = 0x85
    case badUserNameOrPassword = 0x86
    case notAuthorized = 0x87
    case serverUnavailable = 0x88
    case serverBusy = 0x89
    case banned = 0x8A
    case serverShuttingDown = 0x8B
    case badAuthenticationMethod = 0x8C
    case keepAliveTimeout = 0x8D
    case sessionTakenOver = 0x8E
    case topicFilterInvalid = 0x8F
    case topicNameInvalid = 0x90
    case packetIdentifierInUse = 0x91
    case packetIdentifierNotFound = 0x92
    case receiveMaximumExceeded = 0x93
    case topicAliasInvalid = 0x94
    case packetTooLarge = 0x95
    case messageRateTooHigh = 0x96
    case quotaExceeded = 0x97
    case administrativeAction = 0x98
    case payloadFormatInvalid = 0x99
    case retainNotSupported = 0x9A
    case qosNotSupported = 0x9B
    case useAnotherServer = 0x9C
    case serverMoved = 0x9D
    case sharedSubscriptionsNotSupported = 0x9E
    case connectionRateExceeded = 0x9F
    case maximumConnectTime = 0xA0
    case subscriptionIdentifiersNotSupported = 0xA1
    case wildcardSubscriptionsNotSupported = 0xA2

    /// 0x00 in DISCONNECT.
    public static let normalDisconnection: MQTTReasonCode = .success
    /// 0x00 in SUBACK.
    public static let grantedQoS0: MQTTReasonCode = .success

    /// The SUBACK code granting `qos`.
    public static func granted(_ qos: MQTTQoS) -> MQTTReasonCode {
        switch qos {
        case .atMostOnce: return .grantedQoS0
        case .atLeastOnce: return .grantedQoS1
        case .exactlyOnce: return .grantedQoS2
        }
    }

    /// Whether the code reports a failure (0x80 and above).
    public var isFailure: Bool { rawValue >= 0x80 }

    /// Whether the specification allows this code in a v5 packet of `type`.
    public func isAllowed(in type: MQTTPacketType) -> Bool {
        switch type {
        case .connack:
            switch self {
            case .success, .unspecifiedError, .malformedPacket, .protocolError, .implementationSpecificError,
                .unsupportedProtocolVersion, .clientIdentifierNotValid, .badUserNameOrPassword, .notAuthorized,
                .serverUnavailable, .serverBusy, .banned, .badAuthenticationMethod, .topicNameInvalid,
                .packetTooLarge, .quotaExceeded, .payloadFormatInvalid, .retainNotSupported, .qosNotSupported,
                .useAnotherServer, .serverMoved, .connectionRateExceeded:
                return true
            default: return false
            }
        case .puback, .pubrec:
            switch self {
            case .success, .noMatchingSubscribers, .unspecifiedError, .implementationSpecificError, .notAuthorized,
                .topicNameInvalid, .packetIdentifierInUse, .quotaExceeded, .payloadFormatInvalid:
                return true
            default: return false
            }
        case .pubrel, .pubcomp:
            return self == .success || self == .packetIdentifierNotFound
        case .suback:
            switch self {
            case .grantedQoS0, .grantedQoS1, .grantedQoS2, .unspecifiedError, .implementationSpecificError,
                .notAuthorized, .topicFilterInvalid, .packetIdentifierInUse, .quotaExceeded,
                .sharedSubscriptionsNotSupported, .subscriptionIdentifiersNotSupported,
                .wildcardSubscriptionsNotSupported:
                return true
            default: return false
            }
        case .unsuback:
            switch self {
            case .success, .noSubscriptionExisted, .unspecifiedError, .implementationSpecificError, .notAuthorized,
                .topicFilterInvalid, .packetIdentifierInUse:
                return true
            default: return false
            }
        case .disconnect:
            switch self {
            case .normalDisconnection, .disconnectWithWillMessage, .unspecifiedError, .malformedPacket, .protocolError,
                .implementationSpecificError, .notAuthorized, .serverBusy, .serverShuttingDown, .keepAliveTimeout,
                .sessionTakenOver, .topicFilterInvalid, .topicNameInvalid, .receiveMaximumExceeded,
                .topicAliasInvalid, .packetTooLarge, .messageRateTooHigh, .quotaExceeded, .administrativeAction,
                .payloadFormatInvalid, .retainNotSupported, .qosNotSupported, .useAnotherServer, .serverMoved,
                .sharedSubscriptionsNotSupported, .connectionRateExceeded, .maximumConnectTime,
                .subscriptionIdentifiersNotSupported, .wildcardSubscriptionsNotSupported:
                return true
            default: return false
            }
        case .auth:
            return self == .success || self == .continueAuthentication || self == .reAuthenticate
        case .connect, .publish, .subscribe, .unsubscribe, .pingreq, .pingresp:
            return false
        }
    }

    /// Whether a 3.1.1 (`v3_1_1`) or 3.1 (`v3_1`) SUBACK can carry this code.
    func isAllowedInV3SubAck(_ version: MQTTProtocolVersion) -> Bool {
        switch self {
        case .grantedQoS0, .grantedQoS1, .grantedQoS2: return true
        case .unspecifiedError: return version == .v3_1_1
        default: return false
        }
    }
}
