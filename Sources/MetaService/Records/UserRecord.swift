import Foundation
import Shared

/// An MQTT user as stored in meta under `/security/users/<tenant>/<username>`: a PBKDF2-SHA256
/// password hash and the SCRAM-SHA-256 keys derived from it, never the password.
///
/// Stored as JSON (readable with `tributary ctl kv get`):
/// `{"version":1,"tenant":…,"username":…,"superuser":…,"passwordHash":"pbkdf2-sha256$…",
/// "scram":{"salt":…,"iterations":…,"storedKey":…,"serverKey":…},"updatedAtMillis":…}`.
public struct UserRecord: Sendable, Equatable {
    /// The key prefix of every user record.
    public static let prefix = "/security/users/"
    /// The tenant every user belongs to until multi-tenancy exists.
    public static let defaultTenant = "default"
    /// Longest user or tenant name accepted, in UTF-8 bytes.
    public static let maximumNameLength = 256

    /// The tenant.
    public var tenant: String
    /// The user name (the MQTT CONNECT user name).
    public var username: String
    /// Whether the user bypasses ACLs.
    public var isSuperuser: Bool
    /// The PBKDF2-HMAC-SHA256 hash of the password.
    public var passwordHash: PasswordHash
    /// The SCRAM-SHA-256 salt, iterations, stored key and server key.
    public var scram: SCRAMCredentials
    /// When the record was written (wall clock, milliseconds since the Unix epoch).
    public var updatedAtMillis: Int64

    /// A record from already derived parts.
    public init(
        tenant: String, username: String, isSuperuser: Bool, passwordHash: PasswordHash,
        scram: SCRAMCredentials, updatedAtMillis: Int64
    ) {
        self.tenant = tenant
        self.username = username
        self.isSuperuser = isSuperuser
        self.passwordHash = passwordHash
        self.scram = scram
        self.updatedAtMillis = updatedAtMillis
    }

    /// Hashes `password` (fresh salt) and derives the SCRAM keys from the same PBKDF2 output.
    public init(
        tenant: String = UserRecord.defaultTenant, username: String, password: String, isSuperuser: Bool,
        iterations: Int = PasswordHasher.defaultIterations, now: Date = Date()
    ) throws(UserRecordError) {
        try Self.validate(name: tenant, what: "tenant")
        try Self.validate(name: username, what: "user name")
        guard !password.isEmpty else { throw .invalidPassword("must not be empty") }
        do {
            let hasher = try PasswordHasher(iterations: iterations)
            var generator = SystemRandomNumberGenerator()
            let salt = (0..<PasswordHasher.saltByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let hash = try hasher.hash(password, salt: salt)
            self.init(
                tenant: tenant, username: username, isSuperuser: isSuperuser, passwordHash: hash,
                scram: SCRAMCredentials(passwordHash: hash), updatedAtMillis: Int64(now.timeIntervalSince1970 * 1000))
        } catch {
            throw .invalidPassword("\(error)")
        }
    }

    /// The meta key of this record.
    public var key: String { Self.key(tenant: tenant, username: username) }

    /// The meta key of `username` in `tenant`.
    public static func key(tenant: String, username: String) -> String {
        "\(prefix)\(tenant)/\(username)"
    }

    /// The key prefix of every user of `tenant`.
    public static func prefix(tenant: String) -> String { "\(prefix)\(tenant)/" }

    /// Checks a user or tenant name: 1…256 UTF-8 bytes, no `/`, no control characters.
    public static func validate(name: String, what: String) throws(UserRecordError) {
        guard !name.isEmpty else { throw .invalidName("\(what) must not be empty") }
        guard name.utf8.count <= maximumNameLength else {
            throw .invalidName("\(what) is longer than \(maximumNameLength) bytes")
        }
        guard !name.contains("/") else { throw .invalidName("\(what) '\(name)' must not contain '/'") }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidName("\(what) must not contain control characters")
        }
    }
}
