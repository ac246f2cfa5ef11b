/// Why a JWT was refused. Every failure of `JWTVerifier.verify` is one of these.
public enum JWTError: Error, Equatable, Sendable {
    /// The token is not a well-formed compact JWS with a JSON header and claims; the value
    /// names the part.
    case malformed(String)
    /// The token is longer than `JWTValidationOptions.maximumTokenLength`.
    case tokenTooLarge
    /// The header names an algorithm this verifier never accepts (including `none`).
    case unsupportedAlgorithm(String)
    /// No key in the key set has the token's `kid` (or the token has no `kid` and the set
    /// holds more than one key).
    case unknownKeyID(String?)
    /// The header's `alg` is not the algorithm of the key selected by `kid`.
    case algorithmMismatch(expected: JWTAlgorithm, actual: String)
    /// The signature does not verify.
    case badSignature
    /// `exp` is in the past (beyond the leeway).
    case expired
    /// `nbf` is in the future (beyond the leeway).
    case notYetValid
    /// `iat` is in the future (beyond the leeway).
    case issuedInFuture
    /// `exp` is required but absent.
    case missingExpiration
    /// `iss` is not the expected issuer.
    case issuerMismatch
    /// `aud` does not contain the expected audience.
    case audienceMismatch
    /// The header lists critical extensions (`crit`), none of which are understood.
    case unsupportedCriticalHeader
}
