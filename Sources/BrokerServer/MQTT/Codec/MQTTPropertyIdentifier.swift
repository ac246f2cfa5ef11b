/// The identifiers of the MQTT 5.0 properties (section 2.2.2.2) and where each may appear.
public enum MQTTPropertyIdentifier: UInt8, Hashable, Sendable, CaseIterable {
    case payloadFormatIndicator = 0x01
    case messageExpiryInterval = 0x02
    case contentType = 0x03
    case responseTopic = 0x08
    case correlationData = 0x09
    case subscriptionIdentifier = 0x0B
    case sessionExpiryInterval = 0x11
    case assignedClientIdentifier = 0x12
    case serverKeepAlive = 0x13
    case authenticationMethod = 0x15
    case authenticationData = 0x16
    case requestProblemInformation = 0x17
    case willDelayInterval = 0x18
    case requestResponseInformation = 0x19
    case responseInformation = 0x1A
    case serverReference = 0x1C
    case reasonString = 0x1F
    case receiveMaximum = 0x21
    case topicAliasMaximum = 0x22
    case topicAlias = 0x23
    case maximumQoS = 0x24
    case retainAvailable = 0x25
    case userProperty = 0x26
    case maximumPacketSize = 0x27
    case wildcardSubscriptionAvailable = 0x28
    case subscriptionIdentifierAvailable = 0x29
    case sharedSubscriptionAvailable = 0x2A

    /// The packets (and the will) in which the specification allows this property.
    public var allowedContexts: MQTTPropertyContext {
        switch self {
        case .payloadFormatIndicator, .messageExpiryInterval, .contentType, .responseTopic, .correlationData:
            return [.publish, .will]
        case .subscriptionIdentifier: return [.publish, .subscribe]
        case .sessionExpiryInterval: return [.connect, .connack, .disconnect]
        case .assignedClientIdentifier, .serverKeepAlive, .responseInformation, .maximumQoS, .retainAvailable,
            .wildcardSubscriptionAvailable, .subscriptionIdentifierAvailable, .sharedSubscriptionAvailable:
            return .connack
        case .authenticationMethod, .authenticationData: return [.connect, .connack, .auth]
        case .requestProblemInformation, .requestResponseInformation: return .connect
        case .willDelayInterval: return .will
        case .serverReference: return [.connack, .disconnect]
        case .reasonString:
            return [.connack, .puback, .pubrec, .pubrel, .pubcomp, .suback, .unsuback, .disconnect, .auth]
        case .receiveMaximum, .topicAliasMaximum, .maximumPacketSize: return [.connect, .connack]
        case .topicAlias: return .publish
        case .userProperty: return .all
        }
    }

    /// Whether the property may appear more than once in `context`: user properties anywhere,
    /// subscription identifiers only in PUBLISH. Any other repetition is a protocol error.
    public func isRepeatable(in context: MQTTPropertyContext) -> Bool {
        switch self {
        case .userProperty: return true
        case .subscriptionIdentifier: return context == .publish
        default: return false
        }
    }
}
