import Foundation

/// What `JWTVerifier` requires of a token besides a valid signature.
public struct JWTValidationOptions: Sendable {
    /// Required `iss`, or `nil` to accept any.
    public var issuer: String?
    /// Audience that `aud` must contain, or `nil` to accept any.
    public var audience: String?
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    public var leeway: TimeInterval
    /// Whether tokens without `exp` are refused.
    public var requireExpiration: Bool
    /// Longest token accepted, in bytes; longer tokens are refused before decoding.
    public var maximumTokenLength: Int

    /// Creates options; defaults: any issuer and audience, 30 s leeway, `exp` required, 8 KiB.
    public init(
        issuer: String? = nil, audience: String? = nil, leeway: TimeInterval = 30,
        requireExpiration: Bool = true, maximumTokenLength: Int = 8192
    ) {
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.requireExpiration = requireExpiration
        self.maximumTokenLength = maximumTokenLength
    }
}

/// Verifies compact-serialised JWS tokens (RFC 7515 / RFC 7519) signed with HS256, RS256 or
/// ES256 against a `JWTKeySet`, then checks the time and audience claims. IO-free: the
/// current time is passed in.
///
/// The key is chosen by `kid`; the header's `alg` must equal that key's algorithm, so `none`
/// and algorithm-confusion tokens are refused.
public struct JWTVerifier: Sendable {
    /// Trusted keys.
    public var keySet: JWTKeySet
    /// Claim requirements.
    public var options: JWTValidationOptions

    /// Creates a verifier.
    public init(keySet: JWTKeySet, options: JWTValidationOptions = JWTValidationOptions()) {
        self.keySet = keySet
        self.options = options
    }

    /// Verifies `token` at time `now` and returns its claims, or throws a `JWTError`.
    public func verify(_ token: String, now: Date) throws(JWTError) -> JWTClaims {
        guard token.utf8.count <= options.maximumTokenLength else { throw .tokenTooLarge }
        let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("segment count") }
        guard let headerBytes = Base64URL.decode(Substring(parts[0])) else { throw .malformed("header encoding") }
        guard let payloadBytes = Base64URL.decode(Substring(parts[1])) else { throw .malformed("payload encoding") }
        guard let signature = Base64URL.decode(Substring(parts[2])) else { throw .malformed("signature encoding") }

        let decoder = JSONDecoder()
        guard let header = try? decoder.decode(JWTHeader.self, from: Data(headerBytes)) else {
            throw .malformed("header")
        }
        guard let algorithm = JWTAlgorithm(rawValue: header.alg) else { throw .unsupportedAlgorithm(header.alg) }
        if let critical = header.crit, !critical.isEmpty { throw .unsupportedCriticalHeader }
        guard let key = keySet.key(for: header.kid) else { throw .unknownKeyID(header.kid) }
        guard key.algorithm == algorithm else { throw .algorithmMismatch(expected: key.algorithm, actual: header.alg) }

        let signingInput = Array(token.utf8.prefix(parts[0].count + 1 + parts[1].count))
        guard key.isValidSignature(signature, for: signingInput) else { throw .badSignature }

        guard let raw = try? decoder.decode(JWTRawClaims.self, from: Data(payloadBytes)) else {
            throw .malformed("claims")
        }
        let claims = try raw.claims()
        try check(claims, now: now)
        return claims
    }

    private func check(_ claims: JWTClaims, now: Date) throws(JWTError) {
        if let expiresAt = claims.expiresAt {
            guard now.timeIntervalSince(expiresAt) < options.leeway else { throw .expired }
        } else if options.requireExpiration {
            throw .missingExpiration
        }
        if let notBefore = claims.notBefore, notBefore.timeIntervalSince(now) > options.leeway {
            throw .notYetValid
        }
        if let issuedAt = claims.issuedAt, issuedAt.timeIntervalSince(now) > options.leeway {
            throw .issuedInFuture
        }
        if let issuer = options.issuer, claims.issuer != issuer { throw .issuerMismatch }
        if let audience = options.audience, !claims.audience.contains(audience) { throw .audienceMismatch }
    }
}
