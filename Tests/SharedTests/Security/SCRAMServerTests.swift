import Crypto
import Foundation
import Testing

@testable import Shared

@Suite("SCRAMServer")
struct SCRAMServerTests {
    // RFC 7677 §3 example: user "user", password "pencil".
    static let clientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    static let serverNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    static let serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    static let clientFinal =
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    static let serverFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

    static func credentials(password: String = "pencil") throws -> SCRAMCredentials {
        let salt = [UInt8](try #require(Data(base64Encoded: "W22ZaJ0SNY7soEsUEjb6gQ==")))
        let salted = try PasswordHasher.pbkdf2SHA256(
            password: Array(password.utf8), salt: salt, iterations: 4096, byteCount: 32)
        return SCRAMCredentials(saltedPassword: salted, salt: salt, iterations: 4096)
    }

    static func server() -> SCRAMServer {
        SCRAMServer(nonceGenerator: { serverNonce })
    }

    /// A client computing its proof per RFC 5802 §3, independent of the server code.
    static func clientFinal(password: String, authMessage: String, withoutProof: String) throws -> String {
        let salt = [UInt8](try #require(Data(base64Encoded: "W22ZaJ0SNY7soEsUEjb6gQ==")))
        let salted = try PasswordHasher.pbkdf2SHA256(
            password: Array(password.utf8), salt: salt, iterations: 4096, byteCount: 32)
        let clientKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Client Key".utf8), using: SymmetricKey(data: salted)))
        let storedKey = Array(SHA256.hash(data: clientKey))
        let signature = HMAC<SHA256>.authenticationCode(for: Array(authMessage.utf8), using: SymmetricKey(data: storedKey))
        let proof = zip(clientKey, signature).map { $0 ^ $1 }
        return "\(withoutProof),p=\(Data(proof).base64EncodedString())"
    }

    @Test("RFC 7677 example transcript")
    func rfc7677Transcript() throws {
        var server = Self.server()
        #expect(try server.receiveClientFirst(Array(Self.clientFirst.utf8)) == "user")
        #expect(server.authenticatedUsername == nil)
        let first = try server.serverFirst(credentials: Self.credentials())
        #expect(String(decoding: first, as: UTF8.self) == Self.serverFirst)
        let final = try server.receiveClientFinal(Array(Self.clientFinal.utf8))
        #expect(String(decoding: final, as: UTF8.self) == Self.serverFinal)
        #expect(server.authenticatedUsername == "user")
        #expect(throws: SCRAMError.unexpectedMessage) { try server.receiveClientFinal(Array(Self.clientFinal.utf8)) }
    }

    @Test("credentials from a stored PasswordHash authenticate the same client")
    func fromPasswordHash() throws {
        let hash = try PasswordHasher(iterations: 4096).hash("pencil", salt: [UInt8](try #require(Data(base64Encoded: "W22ZaJ0SNY7soEsUEjb6gQ=="))))
        var server = Self.server()
        _ = try server.receiveClientFirst(Array(Self.clientFirst.utf8))
        _ = try server.serverFirst(credentials: SCRAMCredentials(passwordHash: hash))
        #expect(String(decoding: try server.receiveClientFinal(Array(Self.clientFinal.utf8)), as: UTF8.self) == Self.serverFinal)
    }

    @Test("wrong password fails with authenticationFailed and the exchange is dead")
    func wrongPassword() throws {
        var server = Self.server()
        _ = try server.receiveClientFirst(Array(Self.clientFirst.utf8))
        _ = try server.serverFirst(credentials: Self.credentials())
        let withoutProof = "c=biws,r=rOprNGfwEbeRWgbNEkqO\(Self.serverNonce)"
        let final = try Self.clientFinal(
            password: "pencil2", authMessage: "n=user,r=rOprNGfwEbeRWgbNEkqO,\(Self.serverFirst),\(withoutProof)",
            withoutProof: withoutProof)
        #expect(throws: SCRAMError.authenticationFailed) { try server.receiveClientFinal(Array(final.utf8)) }
        #expect(server.authenticatedUsername == nil)
        #expect(throws: SCRAMError.unexpectedMessage) { try server.receiveClientFinal(Array(Self.clientFinal.utf8)) }
    }

    @Test("a correct independent client with a different nonce succeeds")
    func independentClient() throws {
        var server = SCRAMServer(nonceGenerator: { "SERVERNONCE123" })
        _ = try server.receiveClientFirst(Array("n,,n=user,r=abc".utf8))
        let first = String(decoding: try server.serverFirst(credentials: Self.credentials()), as: UTF8.self)
        #expect(first == "r=abcSERVERNONCE123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
        let withoutProof = "c=biws,r=abcSERVERNONCE123"
        let final = try Self.clientFinal(
            password: "pencil", authMessage: "n=user,r=abc,\(first),\(withoutProof)", withoutProof: withoutProof)
        _ = try server.receiveClientFinal(Array(final.utf8))
        #expect(server.authenticatedUsername == "user")
    }

    @Test("unknown user gets a decoy salt and fails at the proof")
    func unknownUser() throws {
        var server = Self.server()
        _ = try server.receiveClientFirst(Array(Self.clientFirst.utf8))
        let first = String(decoding: try server.serverFirst(credentials: nil), as: UTF8.self)
        #expect(first.hasPrefix("r=rOprNGfwEbeRWgbNEkqO\(Self.serverNonce),s="))
        #expect(first.hasSuffix(",i=4096"))
        #expect(throws: SCRAMError.authenticationFailed) { try server.receiveClientFinal(Array(Self.clientFinal.utf8)) }
    }

    @Test("tampered client-final: nonce, channel binding, proof")
    func tamperedFinal() throws {
        let cases: [(String, SCRAMError)] = [
            ("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k1,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", .nonceMismatch),
            ("c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", .channelBindingMismatch),
            ("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=eHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", .authenticationFailed),
            ("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AAAA", .malformedMessage("proof")),
            ("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", .malformedMessage("client-final attributes")),
            ("garbage", .malformedMessage("attribute")),
        ]
        for (message, expected) in cases {
            var server = Self.server()
            _ = try server.receiveClientFirst(Array(Self.clientFirst.utf8))
            _ = try server.serverFirst(credentials: Self.credentials())
            #expect(throws: expected, "\(message)") { try server.receiveClientFinal(Array(message.utf8)) }
        }
    }

    @Test("malformed or unsupported client-first messages")
    func badClientFirst() throws {
        let cases: [([UInt8], SCRAMError)] = [
            (Array("p=tls-unique,,n=user,r=abc".utf8), .channelBindingNotSupported),
            (Array("n,a=admin,n=user,r=abc".utf8), .unsupportedAuthorizationIdentity),
            (Array("n,,m=ext,n=user,r=abc".utf8), .unsupportedExtension),
            (Array("n,,r=abc,n=user".utf8), .malformedMessage("client-first attributes")),
            (Array("n,,n=us=2Xer,r=abc".utf8), .malformedMessage("username escape")),
            (Array("n,,n=user,r=a,b".utf8), .malformedMessage("attribute")),
            (Array("x,,n=user,r=abc".utf8), .malformedMessage("gs2 flag")),
            (Array("n,,n=user".utf8), .malformedMessage("client-first attributes")),
            ([0xFF, 0xFE], .malformedMessage("encoding")),
            ([], .malformedMessage("length")),
            (Array(repeating: UInt8(ascii: "a"), count: 5000), .malformedMessage("length")),
        ]
        for (message, expected) in cases {
            var server = Self.server()
            #expect(throws: expected) { try server.receiveClientFirst(message) }
            #expect(throws: SCRAMError.unexpectedMessage) { try server.serverFirst(credentials: nil) }
        }
        var escaped = Self.server()
        #expect(try escaped.receiveClientFirst(Array("y,a=a=2Cb,n=a=2Cb,r=abc".utf8)) == "a,b")
    }

    @Test("messages out of order are refused")
    func outOfOrder() throws {
        var server = Self.server()
        #expect(throws: SCRAMError.unexpectedMessage) { try server.receiveClientFinal(Array(Self.clientFinal.utf8)) }
        var second = Self.server()
        #expect(throws: SCRAMError.unexpectedMessage) { try second.serverFirst(credentials: nil) }
    }
}
