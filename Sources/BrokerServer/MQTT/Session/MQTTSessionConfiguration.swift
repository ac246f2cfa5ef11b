/// The server's limits and capabilities for one MQTT connection.
public struct MQTTSessionConfiguration: Hashable, Sendable {
    /// How many inbound QoS 1 and 2 publications may be unacknowledged at once (the v5 Receive
    /// Maximum the server announces); exceeding it closes a v5 connection with 0x93.
    public var receiveMaximum: UInt16
    /// The largest packet the server accepts (announced in v5 CONNACK); `nil` announces nothing.
    public var maximumPacketSize: UInt32?
    /// How many inbound topic aliases a v5 client may use (0: none).
    public var topicAliasMaximum: UInt16
    /// Overrides the client's keep alive (v5 Server Keep Alive); `nil` keeps the client's.
    public var serverKeepAlive: UInt16?
    /// The longest session expiry interval granted to a v5 client, in seconds.
    public var maximumSessionExpiryInterval: UInt32
    /// The highest QoS the server grants.
    public var maximumQoS: MQTTQoS
    /// Whether retained messages are supported.
    public var retainAvailable: Bool
    /// Sent as v5 Response Information when the client asks for it; `nil` sends none.
    public var responseInformation: String?
    /// Prefix of the identifiers assigned to clients that connect with an empty one.
    public var assignedClientIdentifierPrefix: String
    /// How many outbound messages may wait behind a full in-flight window. When full, a queued
    /// QoS 0 message is dropped first, otherwise the oldest message; drops are counted in
    /// ``MQTTSession/statistics``.
    public var maximumQueuedMessages: Int
    /// When set, every CONNECT is refused with a redirection to another server (operators use it
    /// to drain a broker); `nil` accepts connections.
    public var serverRedirection: MQTTServerRedirection? = nil

    /// The defaults: Receive Maximum 64, 1 MiB packets, 16 topic aliases, sessions up to a day,
    /// QoS 2, retain, 1,000 queued messages.
    public init(
        receiveMaximum: UInt16 = 64,
        maximumPacketSize: UInt32? = 1 << 20,
        topicAliasMaximum: UInt16 = 16,
        serverKeepAlive: UInt16? = nil,
        maximumSessionExpiryInterval: UInt32 = 86_400,
        maximumQoS: MQTTQoS = .exactlyOnce,
        retainAvailable: Bool = true,
        responseInformation: String? = nil,
        assignedClientIdentifierPrefix: String = "tributary-",
        maximumQueuedMessages: Int = 1_000
    ) {
        self.receiveMaximum = max(receiveMaximum, 1)
        self.maximumPacketSize = maximumPacketSize
        self.topicAliasMaximum = topicAliasMaximum
        self.serverKeepAlive = serverKeepAlive
        self.maximumSessionExpiryInterval = maximumSessionExpiryInterval
        self.maximumQoS = maximumQoS
        self.retainAvailable = retainAvailable
        self.responseInformation = responseInformation
        self.assignedClientIdentifierPrefix = assignedClientIdentifierPrefix
        self.maximumQueuedMessages = max(maximumQueuedMessages, 0)
    }
}
