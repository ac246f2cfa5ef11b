import Crypto

/// Digests of secrets, for keys of in-memory caches that must not hold the secret itself.
public enum SecretDigest {
    /// SHA-256 of `bytes`.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }
}
