import Crypto
import Foundation
import Testing
import _CryptoExtras

@testable import Shared

@Suite("JWTVerifier")
struct JWTVerifierTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let hmacSecret = SymmetricKey(size: .bits256)
    static let rsaKey: _RSA.Signing.PrivateKey? = try? _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let p256Key = P256.Signing.PrivateKey()

    enum Signer {
        case hmac(SymmetricKey)
        case rsa(_RSA.Signing.PrivateKey)
        case p256(P256.Signing.PrivateKey)
        case raw([UInt8])
    }

    static func json(_ object: [String: Any]) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return Base64URL.encode([UInt8](data))
    }

    static func token(header: [String: Any], claims: [String: Any], signer: Signer) throws -> String {
        let input = try "\(json(header)).\(json(claims))"
        let signature: [UInt8]
        switch signer {
        case .hmac(let key): signature = Array(HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: key))
        case .rsa(let key):
            signature = Array(try key.signature(for: Array(input.utf8), padding: .insecurePKCS1v1_5).rawRepresentation)
        case .p256(let key): signature = Array(try key.signature(for: Array(input.utf8)).rawRepresentation)
        case .raw(let bytes): signature = bytes
        }
        return "\(input).\(Base64URL.encode(signature))"
    }

    static var baseClaims: [String: Any] {
        [
            "iss": "https://auth.example", "aud": ["tributary", "other"], "sub": "device-7",
            "exp": now.timeIntervalSince1970 + 300, "nbf": now.timeIntervalSince1970 - 10,
            "iat": now.timeIntervalSince1970 - 10, "username": "alice", "clientid": "dev-7", "tenant": "acme",
            "acl": [
                ["permission": "allow", "action": "publish", "topic": "sensors/%c/#", "qos": [0, 1], "retain": false],
                ["permission": "deny", "action": "all", "topic": "#"],
            ],
        ]
    }

    static func verifier(options: JWTValidationOptions = JWTValidationOptions(issuer: "https://auth.example", audience: "tributary")) throws -> JWTVerifier {
        let rsa = try #require(rsaKey)
        return JWTVerifier(
            keySet: JWTKeySet([
                JWTKey(id: "h1", material: .hmacSHA256(hmacSecret)),
                JWTKey(id: "r1", material: .rsa(rsa.publicKey)),
                JWTKey(id: "e1", material: .p256(p256Key.publicKey)),
            ]), options: options)
    }

    @Test("HS256, RS256 and ES256 tokens signed with fresh keys verify and expose Tributary claims")
    func validTokens() throws {
        let rsa = try #require(Self.rsaKey)
        let verifier = try Self.verifier()
        let signers: [(String, String, Signer)] = [
            ("HS256", "h1", .hmac(Self.hmacSecret)), ("RS256", "r1", .rsa(rsa)), ("ES256", "e1", .p256(Self.p256Key)),
        ]
        for (alg, kid, signer) in signers {
            let token = try Self.token(header: ["alg": alg, "kid": kid, "typ": "JWT"], claims: Self.baseClaims, signer: signer)
            let claims = try verifier.verify(token, now: Self.now)
            #expect(claims.username == "alice")
            #expect(claims.clientID == "dev-7")
            #expect(claims.tenant == "acme")
            #expect(claims.subject == "device-7")
            #expect(claims.audience == ["tributary", "other"])
            #expect(claims.expiresAt == Self.now.addingTimeInterval(300))
            #expect(claims.acl == [
                JWTACLEntry(permission: .allow, action: .publish, topic: "sensors/%c/#", qos: [0, 1], retain: false),
                JWTACLEntry(permission: .deny, action: .all, topic: "#"),
            ])
        }
    }

    @Test("time claims honour the leeway")
    func timeClaims() throws {
        let verifier = try Self.verifier()
        func check(_ changes: [String: Any], at now: Date = Self.now) throws -> JWTClaims {
            let claims = Self.baseClaims.merging(changes) { $1 }
            return try verifier.verify(
                try Self.token(header: ["alg": "HS256", "kid": "h1"], claims: claims, signer: .hmac(Self.hmacSecret)),
                now: now)
        }
        let t = Self.now.timeIntervalSince1970
        #expect(throws: JWTError.expired) { try check(["exp": t - 31]) }
        _ = try check(["exp": t - 29])
        #expect(throws: JWTError.notYetValid) { try check(["nbf": t + 31]) }
        _ = try check(["nbf": t + 29])
        #expect(throws: JWTError.issuedInFuture) { try check(["iat": t + 31]) }
        #expect(throws: JWTError.expired) { try check([:], at: Self.now.addingTimeInterval(331)) }
        var withoutExpiry = Self.baseClaims
        withoutExpiry["exp"] = nil
        let token = try Self.token(header: ["alg": "HS256", "kid": "h1"], claims: withoutExpiry, signer: .hmac(Self.hmacSecret))
        #expect(throws: JWTError.missingExpiration) { try verifier.verify(token, now: Self.now) }
        var lenient = verifier
        lenient.options.requireExpiration = false
        #expect(try lenient.verify(token, now: Self.now).expiresAt == nil)
    }

    @Test("issuer and audience are checked; a single-string aud is accepted")
    func issuerAndAudience() throws {
        let verifier = try Self.verifier()
        func token(_ changes: [String: Any]) throws -> String {
            try Self.token(header: ["alg": "HS256", "kid": "h1"], claims: Self.baseClaims.merging(changes) { $1 }, signer: .hmac(Self.hmacSecret))
        }
        #expect(throws: JWTError.issuerMismatch) { try verifier.verify(try token(["iss": "https://evil.example"]), now: Self.now) }
        #expect(throws: JWTError.audienceMismatch) { try verifier.verify(try token(["aud": ["other"]]), now: Self.now) }
        #expect(try verifier.verify(try token(["aud": "tributary"]), now: Self.now).audience == ["tributary"])
    }

    @Test("forged, tampered, none and algorithm-confusion tokens are refused")
    func forgeries() throws {
        let rsa = try #require(Self.rsaKey)
        let verifier = try Self.verifier()
        let header: [String: Any] = ["alg": "HS256", "kid": "h1"]
        // Signed with another secret.
        let forged = try Self.token(header: header, claims: Self.baseClaims, signer: .hmac(SymmetricKey(size: .bits256)))
        #expect(throws: JWTError.badSignature) { try verifier.verify(forged, now: Self.now) }
        // Payload swapped after signing.
        let good = try Self.token(header: header, claims: Self.baseClaims, signer: .hmac(Self.hmacSecret))
        let parts = good.split(separator: ".").map(String.init)
        let escalated = try Self.json(Self.baseClaims.merging(["username": "admin"]) { $1 })
        #expect(throws: JWTError.badSignature) { try verifier.verify("\(parts[0]).\(escalated).\(parts[2])", now: Self.now) }
        // ES256 and RS256 signatures by other keys.
        let otherP256 = try Self.token(header: ["alg": "ES256", "kid": "e1"], claims: Self.baseClaims, signer: .p256(P256.Signing.PrivateKey()))
        #expect(throws: JWTError.badSignature) { try verifier.verify(otherP256, now: Self.now) }
        let garbageRSA = try Self.token(header: ["alg": "RS256", "kid": "r1"], claims: Self.baseClaims, signer: .raw([1, 2, 3]))
        #expect(throws: JWTError.badSignature) { try verifier.verify(garbageRSA, now: Self.now) }
        // alg none, with and without a signature.
        let none = try Self.token(header: ["alg": "none", "kid": "h1"], claims: Self.baseClaims, signer: .raw([]))
        #expect(throws: JWTError.unsupportedAlgorithm("none")) { try verifier.verify(none, now: Self.now) }
        // Algorithm confusion: HS256 "signed" with the RSA public key bytes as secret, sent with the RSA kid.
        let confusion = try Self.token(
            header: ["alg": "HS256", "kid": "r1"], claims: Self.baseClaims,
            signer: .hmac(SymmetricKey(data: Array(rsa.publicKey.pemRepresentation.utf8))))
        #expect(throws: JWTError.algorithmMismatch(expected: .rs256, actual: "HS256")) { try verifier.verify(confusion, now: Self.now) }
        let esAsHS = try Self.token(header: ["alg": "ES256", "kid": "h1"], claims: Self.baseClaims, signer: .p256(Self.p256Key))
        #expect(throws: JWTError.algorithmMismatch(expected: .hs256, actual: "ES256")) { try verifier.verify(esAsHS, now: Self.now) }
        #expect(throws: JWTError.unsupportedAlgorithm("HS512")) {
            try verifier.verify(try Self.token(header: ["alg": "HS512", "kid": "h1"], claims: Self.baseClaims, signer: .raw([0])), now: Self.now)
        }
        #expect(throws: JWTError.unsupportedCriticalHeader) {
            try verifier.verify(try Self.token(header: ["alg": "HS256", "kid": "h1", "crit": ["exp"]], claims: Self.baseClaims, signer: .hmac(Self.hmacSecret)), now: Self.now)
        }
    }

    @Test("key rotation: several kids valid at once, removed kid refused, missing kid only with one key")
    func rotation() throws {
        let oldSecret = SymmetricKey(size: .bits256)
        let newSecret = SymmetricKey(size: .bits256)
        var verifier = JWTVerifier(keySet: JWTKeySet([JWTKey(id: "old", material: .hmacSHA256(oldSecret))]))
        let oldToken = try Self.token(header: ["alg": "HS256", "kid": "old"], claims: Self.baseClaims, signer: .hmac(oldSecret))
        let noKid = try Self.token(header: ["alg": "HS256"], claims: Self.baseClaims, signer: .hmac(oldSecret))
        #expect(try verifier.verify(noKid, now: Self.now).username == "alice")
        verifier.keySet.insert(JWTKey(id: "new", material: .hmacSHA256(newSecret)))
        let newToken = try Self.token(header: ["alg": "HS256", "kid": "new"], claims: Self.baseClaims, signer: .hmac(newSecret))
        #expect(try verifier.verify(oldToken, now: Self.now).username == "alice")
        #expect(try verifier.verify(newToken, now: Self.now).username == "alice")
        #expect(throws: JWTError.unknownKeyID(nil)) { try verifier.verify(noKid, now: Self.now) }
        verifier.keySet.remove(id: "old")
        #expect(throws: JWTError.unknownKeyID("old")) { try verifier.verify(oldToken, now: Self.now) }
        #expect(verifier.keySet.ids == ["new"])
        let wrongKid = try Self.token(header: ["alg": "HS256", "kid": "new"], claims: Self.baseClaims, signer: .hmac(oldSecret))
        #expect(throws: JWTError.badSignature) { try verifier.verify(wrongKid, now: Self.now) }
    }

    @Test("malformed tokens produce typed errors")
    func malformed() throws {
        let verifier = try Self.verifier()
        let header = try Self.json(["alg": "HS256", "kid": "h1"])
        let claims = try Self.json(Self.baseClaims)
        let cases: [(String, JWTError)] = [
            ("", .malformed("segment count")),
            ("abc", .malformed("segment count")),
            ("a.b.c.d", .malformed("segment count")),
            ("!!.\(claims).AAAA", .malformed("header encoding")),
            ("\(header).\(claims)=.AAAA", .malformed("payload encoding")),
            ("\(header).\(claims).A", .malformed("signature encoding")),
            ("\(Base64URL.encode(Array("not json".utf8))).\(claims).AAAA", .malformed("header")),
            ("\(Base64URL.encode(Array("{\"kid\":\"h1\"}".utf8))).\(claims).AAAA", .malformed("header")),
            (String(repeating: "a", count: 9000), .tokenTooLarge),
        ]
        for (token, expected) in cases {
            #expect(throws: expected, "\(token.prefix(40))") { try verifier.verify(token, now: Self.now) }
        }
        let badClaims = try Self.token(header: ["alg": "HS256", "kid": "h1"], claims: ["exp": "soon"], signer: .hmac(Self.hmacSecret))
        #expect(throws: JWTError.malformed("claims")) { try verifier.verify(badClaims, now: Self.now) }
        let hugeExp = try Self.token(header: ["alg": "HS256", "kid": "h1"], claims: ["exp": 1e300], signer: .hmac(Self.hmacSecret))
        #expect(throws: JWTError.malformed("exp")) { try verifier.verify(hugeExp, now: Self.now) }
    }

    @Test("base64url round trip")
    func base64URL() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 251) }
            let encoded = Base64URL.encode(bytes)
            #expect(!encoded.contains("=") && !encoded.contains("+") && !encoded.contains("/"))
            #expect(Base64URL.decode(Substring(encoded)) == bytes)
        }
        #expect(Base64URL.decode("ab+c") == nil)
        #expect(Base64URL.decode("abc=") == nil)
    }
}

@Suite("JWT acl claim")
struct JWTACLClaimTests {
    @Test("the acl claim of a verified token becomes a per-connection engine")
    func tokenACL() throws {
        let token = try JWTVerifierTests.token(
            header: ["alg": "HS256", "kid": "h1"], claims: JWTVerifierTests.baseClaims, signer: .hmac(JWTVerifierTests.hmacSecret))
        let claims = try JWTVerifierTests.verifier().verify(token, now: JWTVerifierTests.now)
        let tenant = try #require(claims.tenant)
        let engine = ACLEngine(tokenACL: claims.acl, tenant: tenant)
        func request(_ topic: String, qos: UInt8 = 0, retain: Bool = false, tenant: String = "acme") -> ACLRequest {
            ACLRequest(
                tenant: tenant, username: claims.username, clientID: claims.clientID ?? "", peerAddress: nil,
                action: .publish, topic: topic, qos: qos, retain: retain)
        }
        #expect(engine.authorize(request("sensors/dev-7/temp", qos: 1)).isAllowed)
        #expect(!engine.authorize(request("sensors/dev-7/temp", qos: 2)).isAllowed)
        #expect(!engine.authorize(request("sensors/dev-7/temp", retain: true)).isAllowed)
        #expect(!engine.authorize(request("sensors/dev-8/temp")).isAllowed)
        #expect(engine.authorize(request("other")) == ACLDecision(permission: .deny, reason: .rule(priority: 1)))
        #expect(!engine.authorize(request("sensors/dev-7/temp", tenant: "evil")).isAllowed)
    }
}
