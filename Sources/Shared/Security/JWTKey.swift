import Crypto
import _CryptoExtras

/// JWS algorithms accepted by `JWTVerifier` (RFC 7518 §3.1). `none` is deliberately absent.
public enum JWTAlgorithm: String, Sendable, Hashable, CaseIterable {
    /// HMAC with SHA-256.
    case hs256 = "HS256"
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    case rs256 = "RS256"
    /// ECDSA with P-256 and SHA-256.
    case es256 = "ES256"
}

/// One verification key with its key id. The algorithm is a property of the key, never taken
/// from the token, which rules out algorithm confusion (for example an RSA public key used as
/// an HMAC secret).
public struct JWTKey: Sendable {
    /// Key material, one case per algorithm.
    public enum Material: Sendable {
        /// Shared secret for HS256.
        case hmacSHA256(SymmetricKey)
        /// RSA public key for RS256.
        case rsa(_RSA.Signing.PublicKey)
        /// P-256 public key for ES256.
        case p256(P256.Signing.PublicKey)
    }

    /// The `kid` tokens signed with this key carry.
    public let id: String
    /// The key material.
    public let material: Material

    /// Creates a key.
    public init(id: String, material: Material) {
        self.id = id
        self.material = material
    }

    /// The only algorithm this key verifies.
    public var algorithm: JWTAlgorithm {
        switch material {
        case .hmacSHA256: .hs256
        case .rsa: .rs256
        case .p256: .es256
        }
    }

    /// Whether `signature` is valid for `signingInput` under this key.
    func isValidSignature(_ signature: [UInt8], for signingInput: [UInt8]) -> Bool {
        switch material {
        case .hmacSHA256(let secret):
            return HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signingInput, using: secret)
        case .rsa(let publicKey):
            return publicKey.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: signingInput,
                padding: .insecurePKCS1v1_5)
        case .p256(let publicKey):
            guard let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return publicKey.isValidSignature(parsed, for: signingInput)
        }
    }
}

/// The keys a verifier trusts, by `kid`. Several keys may be valid at once, which is how keys
/// are rotated: add the new key, let old tokens expire, remove the old key.
public struct JWTKeySet: Sendable {
    private var keys: [String: JWTKey] = [:]

    /// Creates a key set; a later key with the same id replaces an earlier one.
    public init(_ keys: [JWTKey] = []) {
        for key in keys { self.keys[key.id] = key }
    }

    /// Adds or replaces a key.
    public mutating func insert(_ key: JWTKey) {
        keys[key.id] = key
    }

    /// Removes the key with `id`.
    public mutating func remove(id: String) {
        keys[id] = nil
    }

    /// The key ids present.
    public var ids: Set<String> { Set(keys.keys) }

    /// The key for `kid`; without a `kid` only a set of exactly one key yields a key.
    func key(for kid: String?) -> JWTKey? {
        if let kid { return keys[kid] }
        return keys.count == 1 ? keys.values.first : nil
    }
}
