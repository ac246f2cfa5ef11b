import Crypto

/// What a SCRAM-SHA-256 server stores for a user (RFC 5802 §3): salt, iteration count,
/// `StoredKey = H(HMAC(SaltedPassword, "Client Key"))` and
/// `ServerKey = HMAC(SaltedPassword, "Server Key")`. The password itself is not needed.
public struct SCRAMCredentials: Sendable, Hashable {
    /// The PBKDF2 salt.
    public let salt: [UInt8]
    /// The PBKDF2 iteration count.
    public let iterations: Int
    /// `H(ClientKey)`.
    public let storedKey: [UInt8]
    /// `HMAC(SaltedPassword, "Server Key")`.
    public let serverKey: [UInt8]

    /// Derives credentials from `SaltedPassword = PBKDF2-HMAC-SHA256(password, salt, iterations)`.
    public init(saltedPassword: [UInt8], salt: [UInt8], iterations: Int) {
        let key = SymmetricKey(data: saltedPassword)
        let clientKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Client Key".utf8), using: key))
        self.storedKey = Array(SHA256.hash(data: clientKey))
        self.serverKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Server Key".utf8), using: key))
        self.salt = salt
        self.iterations = iterations
    }

    /// Derives credentials from a stored `PasswordHash`: its 32-byte PBKDF2-HMAC-SHA256 output
    /// is exactly SCRAM-SHA-256's `SaltedPassword`, so one stored hash serves both password
    /// login and SCRAM.
    public init(passwordHash: PasswordHash) {
        self.init(saltedPassword: passwordHash.derivedKey, salt: passwordHash.salt, iterations: passwordHash.iterations)
    }

    /// Creates credentials from already-derived keys (for example loaded from metadata).
    public init(salt: [UInt8], iterations: Int, storedKey: [UInt8], serverKey: [UInt8]) {
        self.salt = salt
        self.iterations = iterations
        self.storedKey = storedKey
        self.serverKey = serverKey
    }
}
