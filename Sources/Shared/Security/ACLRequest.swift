/// One authorisation question: may this client publish to / subscribe to this topic?
public struct ACLRequest: Sendable, Hashable {
    /// The MQTT operation.
    public enum Action: String, Sendable, Hashable {
        /// PUBLISH to a topic name.
        case publish
        /// SUBSCRIBE to a topic filter.
        case subscribe
    }

    /// The tenant the connection belongs to; only that tenant's rules are consulted.
    public var tenant: String
    /// Authenticated user name, if any.
    public var username: String?
    /// MQTT client identifier.
    public var clientID: String
    /// Whether the connection authenticated as a superuser.
    public var isSuperuser: Bool
    /// Peer address, if known.
    public var peerAddress: IPAddress?
    /// Publish or subscribe.
    public var action: Action
    /// Topic name for publish; topic filter (possibly `$share/...`) for subscribe.
    public var topic: String
    /// Requested QoS.
    public var qos: UInt8
    /// PUBLISH retain flag (ignored for subscribe).
    public var retain: Bool

    /// Creates a request.
    public init(
        tenant: String, username: String?, clientID: String, isSuperuser: Bool = false, peerAddress: IPAddress?,
        action: Action, topic: String, qos: UInt8, retain: Bool = false
    ) {
        self.tenant = tenant
        self.username = username
        self.clientID = clientID
        self.isSuperuser = isSuperuser
        self.peerAddress = peerAddress
        self.action = action
        self.topic = topic
        self.qos = qos
        self.retain = retain
    }
}

/// The answer to an `ACLRequest`.
public struct ACLDecision: Sendable, Hashable {
    /// Why the decision was reached.
    public enum Reason: Sendable, Hashable {
        /// A rule of the request's tenant matched; its priority is given.
        case rule(priority: Int)
        /// No rule matched; the engine's default applied.
        case noMatchingRule
        /// The topic or filter is not valid MQTT.
        case invalidTopic
    }

    /// Allow or deny.
    public var permission: ACLPermission
    /// Why.
    public var reason: Reason

    /// Whether the request is allowed.
    public var isAllowed: Bool { permission == .allow }
}
