/// Why a password hash could not be produced or a stored hash could not be used.
public enum PasswordHashError: Error, Equatable, Sendable {
    /// The stored string is not `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`; the
    /// associated value names the part that is wrong.
    case malformed(String)
    /// The stored string names a scheme other than `pbkdf2-sha256`.
    case unsupportedScheme(String)
    /// The iteration count is outside `PasswordHasher.minimumIterations...maximumIterations`.
    case iterationsOutOfRange(Int)
    /// The password contains a NUL character. HMAC zero-pads short keys, so `"pw"` and
    /// `"pw\0"` would derive the same hash; such passwords are refused instead.
    case passwordContainsNUL
    /// The underlying key derivation failed.
    case derivationFailed
}
