import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// What a client presented in CONNECT, for an ``MQTTAuthenticator``.
public struct MQTTConnectCredentials: Sendable {
    /// The client identifier (empty if the server will assign one).
    public var clientIdentifier: String
    /// The user name, if any.
    public var userName: String?
    /// The password, if any.
    public var password: ByteBuffer?
    /// The peer's address, if known.
    public var remoteAddress: SocketAddress?
    /// The protocol version.
    public var protocolVersion: MQTTProtocolVersion

    /// Credentials.
    public init(
        clientIdentifier: String, userName: String?, password: ByteBuffer?, remoteAddress: SocketAddress?,
        protocolVersion: MQTTProtocolVersion
    ) {
        self.clientIdentifier = clientIdentifier
        self.userName = userName
        self.password = password
        self.remoteAddress = remoteAddress
        self.protocolVersion = protocolVersion
    }
}

/// Decides whether a CONNECT may proceed. Called once per connection, on its event loop; it may
/// complete later (e.g. after hashing a password off the loop).
public protocol MQTTAuthenticator: Sendable {
    /// `nil` accepts; a failure reason code (0x86 bad user name or password, 0x87 not authorized,
    /// 0x8A banned, …) refuses with that CONNACK (mapped to the 3.1.1 return code for v3 clients).
    func authenticate(_ credentials: MQTTConnectCredentials, on eventLoop: any EventLoop) -> EventLoopFuture<MQTTReasonCode?>
}

/// Decides whether a connected client may publish to a topic or subscribe to a filter. Called on
/// the connection's event loop for every PUBLISH and each filter of a SUBSCRIBE; keep it fast.
public protocol MQTTAuthorizer: Sendable {
    /// Whether `clientIdentifier` (authenticated as `userName`) may publish to `topic`.
    func mayPublish(clientIdentifier: String, userName: String?, topic: String) -> Bool
    /// Whether `clientIdentifier` (authenticated as `userName`) may subscribe to `filter`.
    func maySubscribe(clientIdentifier: String, userName: String?, filter: String) -> Bool
}

/// The default authenticator: accepts everyone with a user name, and clients without one when
/// `allowAnonymous` is set (refused with 0x87 otherwise). It checks no password.
public struct MQTTAnonymousAuthenticator: MQTTAuthenticator {
    /// Whether clients without a user name are accepted.
    public var allowAnonymous: Bool

    /// An authenticator.
    public init(allowAnonymous: Bool) {
        self.allowAnonymous = allowAnonymous
    }

    public func authenticate(_ credentials: MQTTConnectCredentials, on eventLoop: any EventLoop) -> EventLoopFuture<MQTTReasonCode?> {
        let refused = credentials.userName == nil && !allowAnonymous
        return eventLoop.makeSucceededFuture(refused ? .notAuthorized : nil)
    }
}

/// The default authorizer: everything is allowed except publishing to `$SYS/…`, which only the
/// broker itself writes.
public struct MQTTDefaultAuthorizer: MQTTAuthorizer {
    /// An authorizer.
    public init() {}

    public func mayPublish(clientIdentifier: String, userName: String?, topic: String) -> Bool {
        !topic.hasPrefix("$SYS")
    }

    public func maySubscribe(clientIdentifier: String, userName: String?, filter: String) -> Bool { true }
}
