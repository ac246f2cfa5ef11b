import NIOCore

/// The MQTT 5.0 properties of one packet (or of a will message). Absent properties are `nil`
/// (or empty for the repeatable ones); 3.1 and 3.1.1 packets always have empty properties.
///
/// Which properties a packet may carry is given by ``MQTTPropertyIdentifier/allowedContexts``;
/// the decoder rejects the others and the encoder refuses to write them.
public struct MQTTProperties: Hashable, Sendable {
    /// 0x01, PUBLISH and will.
    public var payloadFormatIndicator: MQTTPayloadFormat?
    /// 0x02, seconds; PUBLISH and will.
    public var messageExpiryInterval: UInt32?
    /// 0x03, PUBLISH and will.
    public var contentType: String?
    /// 0x08, a topic name; PUBLISH and will.
    public var responseTopic: String?
    /// 0x09, PUBLISH and will.
    public var correlationData: ByteBuffer?
    /// 0x0B, each 1...268,435,455; several in a PUBLISH sent to a client, at most one in SUBSCRIBE.
    public var subscriptionIdentifiers: [UInt32]
    /// 0x11, seconds; CONNECT, CONNACK, DISCONNECT.
    public var sessionExpiryInterval: UInt32?
    /// 0x12, CONNACK.
    public var assignedClientIdentifier: String?
    /// 0x13, seconds; CONNACK.
    public var serverKeepAlive: UInt16?
    /// 0x15, CONNECT, CONNACK, AUTH.
    public var authenticationMethod: String?
    /// 0x16, CONNECT, CONNACK, AUTH; only together with an authentication method.
    public var authenticationData: ByteBuffer?
    /// 0x17, CONNECT.
    public var requestProblemInformation: Bool?
    /// 0x18, seconds; will.
    public var willDelayInterval: UInt32?
    /// 0x19, CONNECT.
    public var requestResponseInformation: Bool?
    /// 0x1A, CONNACK.
    public var responseInformation: String?
    /// 0x1C, CONNACK, DISCONNECT.
    public var serverReference: String?
    /// 0x1F, every acknowledgement, DISCONNECT and AUTH.
    public var reasonString: String?
    /// 0x21, non-zero; CONNECT, CONNACK.
    public var receiveMaximum: UInt16?
    /// 0x22, CONNECT, CONNACK.
    public var topicAliasMaximum: UInt16?
    /// 0x23, non-zero; PUBLISH.
    public var topicAlias: UInt16?
    /// 0x24, only QoS 0 or 1 (absence means 2); CONNACK.
    public var maximumQoS: MQTTQoS?
    /// 0x25, CONNACK.
    public var retainAvailable: Bool?
    /// 0x26, every packet with properties; ordered, repeatable.
    public var userProperties: [MQTTUserProperty]
    /// 0x27, non-zero; CONNECT, CONNACK.
    public var maximumPacketSize: UInt32?
    /// 0x28, CONNACK.
    public var wildcardSubscriptionAvailable: Bool?
    /// 0x29, CONNACK.
    public var subscriptionIdentifierAvailable: Bool?
    /// 0x2A, CONNACK.
    public var sharedSubscriptionAvailable: Bool?

    /// No properties.
    public init() {
        self.subscriptionIdentifiers = []
        self.userProperties = []
    }

    /// Whether no property is present.
    public var isEmpty: Bool { self == MQTTProperties() }

    /// The largest Subscription Identifier (and any Variable Byte Integer) value.
    public static let maximumSubscriptionIdentifier: UInt32 = 268_435_455
}
