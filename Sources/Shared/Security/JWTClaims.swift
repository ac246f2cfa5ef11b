import Foundation

/// The claims of a verified token: the registered ones Tributary checks and its own
/// `username`, `clientid`, `tenant` and `acl`.
public struct JWTClaims: Sendable, Equatable {
    /// `iss`.
    public var issuer: String?
    /// `sub`.
    public var subject: String?
    /// `aud` (a single string is normalised to one element).
    public var audience: [String]
    /// `exp`.
    public var expiresAt: Date?
    /// `nbf`.
    public var notBefore: Date?
    /// `iat`.
    public var issuedAt: Date?
    /// Tributary `username`.
    public var username: String?
    /// Tributary `clientid`.
    public var clientID: String?
    /// Tributary `tenant`.
    public var tenant: String?
    /// Tributary `acl`: rules that apply to the bearer of this token only.
    public var acl: [JWTACLEntry]
}

/// One entry of the Tributary `acl` claim, for example
/// `{"permission":"allow","action":"publish","topic":"sensors/%c/#","qos":[0,1],"retain":false}`.
public struct JWTACLEntry: Sendable, Equatable, Decodable {
    /// Allow or deny.
    public var permission: ACLPermission
    /// publish, subscribe or all.
    public var action: ACLAction
    /// Topic filter, with `%u` / `%c` placeholders.
    public var topic: String
    /// Allowed QoS levels; absent means any.
    public var qos: Set<UInt8>?
    /// Required retain flag; absent means either.
    public var retain: Bool?

    /// Creates an entry.
    public init(permission: ACLPermission, action: ACLAction, topic: String, qos: Set<UInt8>? = nil, retain: Bool? = nil) {
        self.permission = permission
        self.action = action
        self.topic = topic
        self.qos = qos
        self.retain = retain
    }
}

/// Raw claim decoding; kept internal so the public type stays independent of JSON shapes.
struct JWTRawClaims: Decodable {
    enum Audience: Decodable {
        case one(String)
        case many([String])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let one = try? container.decode(String.self) {
                self = .one(one)
            } else {
                self = .many(try container.decode([String].self))
            }
        }

        var values: [String] {
            switch self {
            case .one(let value): [value]
            case .many(let values): values
            }
        }
    }

    var iss: String?
    var sub: String?
    var aud: Audience?
    var exp: Double?
    var nbf: Double?
    var iat: Double?
    var username: String?
    var clientid: String?
    var tenant: String?
    var acl: [JWTACLEntry]?

    func claims() throws(JWTError) -> JWTClaims {
        func date(_ seconds: Double?, _ name: String) throws(JWTError) -> Date? {
            guard let seconds else { return nil }
            guard seconds.isFinite, abs(seconds) < 1e11 else { throw .malformed(name) }
            return Date(timeIntervalSince1970: seconds)
        }
        return JWTClaims(
            issuer: iss, subject: sub, audience: aud?.values ?? [],
            expiresAt: try date(exp, "exp"), notBefore: try date(nbf, "nbf"), issuedAt: try date(iat, "iat"),
            username: username, clientID: clientid, tenant: tenant, acl: acl ?? [])
    }
}

struct JWTHeader: Decodable {
    var alg: String
    var kid: String?
    var typ: String?
    var crit: [String]?
}
