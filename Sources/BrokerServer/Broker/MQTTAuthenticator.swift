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
    /// The common name of the client certificate the TLS handshake verified, if any.
    public var certificateCommonName: String?

    /// Credentials.
    public init(
        clientIdentifier: String, userName: String?, password: ByteBuffer?, remoteAddress: SocketAddress?,
        protocolVersion: MQTTProtocolVersion, certificateCommonName: String? = nil
    ) {
        self.clientIdentifier = clientIdentifier
        self.userName = userName
        self.password = password
        self.remoteAddress = remoteAddress
        self.protocolVersion = protocolVersion
        self.certificateCommonName = certificateCommonName
    }

    /// The password as UTF-8 text, `nil` if absent or not valid UTF-8.
    public var passwordText: String? {
        guard let password else { return nil }
        return String(validating: password.readableBytesView, as: UTF8.self)
    }
}

/// What an authenticator decided about a CONNECT.
public enum MQTTAuthOutcome: Sendable, Equatable {
    /// Accepted as this identity.
    case allow(MQTTAuthContext)
    /// Refused with this CONNACK reason code (0x86 bad user name or password, 0x87 not
    /// authorized, 0x8A banned, …; mapped to the 3.1.1 return code for v3 clients).
    case deny(MQTTReasonCode)
    /// No opinion (the mechanism does not apply): the next authenticator of a chain decides.
    case ignore
}

/// Decides whether a CONNECT may proceed. Called once per connection, on its event loop; it may
/// complete later (e.g. after hashing a password off the loop).
public protocol MQTTAuthenticator: Sendable {
    /// The decision for `credentials`.
    func authenticate(_ credentials: MQTTConnectCredentials, on eventLoop: any EventLoop) -> EventLoopFuture<MQTTAuthOutcome>

    /// A new exchange for MQTT 5 enhanced authentication with `method` (CONNECT or
    /// re-authentication), or `nil` when this authenticator does not offer the method.
    func makeExchange(method: String) -> (any MQTTAuthExchange)?
}

extension MQTTAuthenticator {
    /// No enhanced authentication method by default.
    public func makeExchange(method: String) -> (any MQTTAuthExchange)? { nil }
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

    public func authenticate(_ credentials: MQTTConnectCredentials, on eventLoop: any EventLoop) -> EventLoopFuture<MQTTAuthOutcome> {
        if credentials.userName == nil && !allowAnonymous {
            return eventLoop.makeSucceededFuture(.deny(.notAuthorized))
        }
        return eventLoop.makeSucceededFuture(.allow(MQTTAuthContext(userName: credentials.userName, mechanism: .anonymous)))
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
