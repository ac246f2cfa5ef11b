import Shared

/// The settings of an ``MQTTAccessControl``: ACL defaults, flapping detection and per-node /
/// per-client limits (`auth.acl.*`, `mqtt.flapping.*`, `mqtt.limits.*`).
public struct MQTTAccessConfiguration: Sendable {
    /// Flapping detection settings.
    public struct Flapping: Sendable {
        /// Connects of one client id tolerated within `window`.
        public var maximumConnects: Int
        /// The sliding window.
        public var window: Duration
        /// How long a flapping client id is banned.
        public var banDuration: Duration

        /// Settings.
        public init(maximumConnects: Int, window: Duration, banDuration: Duration) {
            self.maximumConnects = maximumConnects
            self.window = window
            self.banDuration = banDuration
        }
    }

    /// What a request no rule matches gets.
    public var noMatch: ACLPermission
    /// Whether a 3.1.1 client whose PUBLISH is denied is disconnected (else it is acknowledged
    /// and the message dropped).
    public var v3PublishDeniedDisconnects: Bool
    /// ACL decisions cached per connection.
    public var aclCacheSize: Int
    /// Flapping detection, or `nil` when off.
    public var flapping: Flapping?
    /// New connections per second on this node (0: unlimited).
    public var connectRate: Int
    /// Connection bucket size (0: the rate).
    public var connectBurst: Int
    /// PUBLISH packets per second per client (0: unlimited).
    public var messageRate: Int
    /// PUBLISH bucket size (0: the rate).
    public var messageBurst: Int
    /// Bytes per second read from one client (0: unlimited).
    public var bandwidth: Int
    /// Topic filters per session (0: unlimited).
    public var maximumSubscriptions: Int

    /// Settings; the defaults allow everything and limit nothing.
    public init(
        noMatch: ACLPermission = .allow, v3PublishDeniedDisconnects: Bool = true, aclCacheSize: Int = 256,
        flapping: Flapping? = nil, connectRate: Int = 0, connectBurst: Int = 0, messageRate: Int = 0,
        messageBurst: Int = 0, bandwidth: Int = 0, maximumSubscriptions: Int = 0
    ) {
        self.noMatch = noMatch
        self.v3PublishDeniedDisconnects = v3PublishDeniedDisconnects
        self.aclCacheSize = max(1, aclCacheSize)
        self.flapping = flapping
        self.connectRate = max(0, connectRate)
        self.connectBurst = max(0, connectBurst)
        self.messageRate = max(0, messageRate)
        self.messageBurst = max(0, messageBurst)
        self.bandwidth = max(0, bandwidth)
        self.maximumSubscriptions = max(0, maximumSubscriptions)
    }
}
