import Crypto
import Foundation
import _CryptoExtras

/// Hashes and verifies passwords with PBKDF2-HMAC-SHA256 (RFC 8018) and a random 16-byte salt.
///
/// Hashes are stored as `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>` (`PasswordHash`).
/// The derivation is swift-crypto's `KDF.Insecure.PBKDF2` (BoringSSL); verification compares in
/// constant time.
public struct PasswordHasher: Sendable {
    /// OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.
    public static let defaultIterations = 210_000
    /// Lowest iteration count used or accepted (only tests and migrations should go this low).
    public static let minimumIterations = 1_000
    /// Highest iteration count accepted, so a stored hash cannot make verification hang.
    public static let maximumIterations = 10_000_000
    /// Accepted iteration counts.
    public static let acceptedIterations = minimumIterations...maximumIterations
    /// Salt length in bytes.
    public static let saltByteCount = 16
    /// Derived key length in bytes (one SHA-256 block, as SCRAM-SHA-256 needs).
    public static let derivedKeyByteCount = 32

    /// Iteration count for new hashes.
    public let iterations: Int

    /// Creates a hasher; throws if `iterations` is outside `acceptedIterations`.
    public init(iterations: Int = PasswordHasher.defaultIterations) throws(PasswordHashError) {
        guard Self.acceptedIterations.contains(iterations) else { throw .iterationsOutOfRange(iterations) }
        self.iterations = iterations
    }

    /// Hashes `password` with a fresh random salt and returns the encoded form.
    public func hash(_ password: String) throws(PasswordHashError) -> String {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<Self.saltByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return try hash(password, salt: salt).encoded
    }

    /// Hashes `password` with the given salt.
    public func hash(_ password: String, salt: [UInt8]) throws(PasswordHashError) -> PasswordHash {
        guard !password.utf8.contains(0) else { throw .passwordContainsNUL }
        let key = try Self.pbkdf2SHA256(
            password: Array(password.utf8), salt: salt, iterations: iterations, byteCount: Self.derivedKeyByteCount)
        return try PasswordHash(iterations: iterations, salt: salt, derivedKey: key)
    }

    /// Checks `password` against an encoded hash in constant time. Returns `false` for a wrong
    /// password (including any password containing NUL); throws `PasswordHashError` when the stored hash itself is unusable.
    public static func verify(_ password: String, against stored: String) throws(PasswordHashError) -> Bool {
        try verify(password, against: PasswordHash(encoded: stored))
    }

    /// Checks `password` against a parsed hash in constant time.
    public static func verify(_ password: String, against stored: PasswordHash) throws(PasswordHashError) -> Bool {
        // Never equal to a stored hash: hashing refuses NUL (see `passwordContainsNUL`).
        guard !password.utf8.contains(0) else { return false }
        let candidate = try pbkdf2SHA256(
            password: Array(password.utf8), salt: stored.salt, iterations: stored.iterations,
            byteCount: stored.derivedKey.count)
        return ConstantTime.equals(candidate, stored.derivedKey)
    }

    /// Whether a stored hash uses fewer iterations than this hasher (re-hash after next login).
    public func needsRehash(_ stored: PasswordHash) -> Bool {
        stored.iterations < iterations
    }

    /// Raw PBKDF2-HMAC-SHA256. Any positive iteration count is allowed here (test vectors,
    /// SCRAM with client-chosen parameters); policy limits live in `PasswordHasher`.
    public static func pbkdf2SHA256(
        password: [UInt8], salt: [UInt8], iterations: Int, byteCount: Int
    ) throws(PasswordHashError) -> [UInt8] {
        guard iterations >= 1 else { throw .iterationsOutOfRange(iterations) }
        guard byteCount >= 1, byteCount <= 1024 else { throw .derivationFailed }
        do {
            let key = try KDF.Insecure.PBKDF2.deriveKey(
                from: password, salt: salt, using: .sha256, outputByteCount: byteCount,
                unsafeUncheckedRounds: iterations)
            return key.withUnsafeBytes { Array($0) }
        } catch {
            throw .derivationFailed
        }
    }
}
