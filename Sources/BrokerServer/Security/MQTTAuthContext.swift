import Shared

/// Who a connection authenticated as: what the authenticator found out, for the authorizer
/// (ACLs, super users, per-token rules) and for logs.
public struct MQTTAuthContext: Sendable, Equatable {
    /// How the identity was established.
    public enum Mechanism: String, Sendable, Equatable {
        /// No credentials checked (anonymous access, or the default authenticator).
        case anonymous
        /// User name and password against the user store.
        case password
        /// A JWT passed as the password.
        case jwt
        /// SCRAM-SHA-256 over MQTT 5 AUTH packets.
        case scram
        /// A verified TLS client certificate.
        case x509
        /// The HTTP authentication service.
        case http
    }

    /// The authenticated user name (`nil`: anonymous).
    public var userName: String?
    /// The tenant the user belongs to.
    public var tenant: String
    /// Whether the user bypasses ACLs.
    public var isSuperuser: Bool
    /// Rules from the token's `acl` claim, for this connection only (JWT only).
    public var jwtACL: [JWTACLEntry]
    /// The common name of the verified client certificate, if one was presented.
    public var certificateCommonName: String?
    /// How the identity was established.
    public var mechanism: Mechanism

    /// A context; the tenant defaults to `default`.
    public init(
        userName: String?, tenant: String = "default", isSuperuser: Bool = false, jwtACL: [JWTACLEntry] = [],
        certificateCommonName: String? = nil, mechanism: Mechanism
    ) {
        self.userName = userName
        self.tenant = tenant
        self.isSuperuser = isSuperuser
        self.jwtACL = jwtACL
        self.certificateCommonName = certificateCommonName
        self.mechanism = mechanism
    }
}
