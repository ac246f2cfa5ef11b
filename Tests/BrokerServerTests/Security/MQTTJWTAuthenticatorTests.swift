import Foundation
import Logging
import NIOCore
import Shared
import Testing

@testable import BrokerServer

/// JWT as the CONNECT password. The tokens are fixed vectors signed (HS256) with the 32-byte
/// secret `0123456789abcdef0123456789abcdef`, kid `hs`, `exp` 2_000_000_000, `iss` tributary-tests.
@Suite("JWT authenticator")
struct MQTTJWTAuthenticatorTests {
    static let valid = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImhzIn0.eyJ1c2VybmFtZSI6ImFsaWNlIiwiZXhwIjoyMDAwMDAwMDAwLCJpc3MiOiJ0cmlidXRhcnktdGVzdHMiLCJhY2wiOlt7InBlcm1pc3Npb24iOiJhbGxvdyIsImFjdGlvbiI6InB1Ymxpc2giLCJ0b3BpYyI6InNlbnNvcnMvJXUvIyJ9XX0.Mma3aMLbAkuBR3VhMEnT1tQ0XzvO9h0cc2FTbDXne6s"
    static let bound = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImhzIn0.eyJ1c2VybmFtZSI6ImFsaWNlIiwiZXhwIjoyMDAwMDAwMDAwLCJpc3MiOiJ0cmlidXRhcnktdGVzdHMiLCJhY2wiOlt7InBlcm1pc3Npb24iOiJhbGxvdyIsImFjdGlvbiI6InB1Ymxpc2giLCJ0b3BpYyI6InNlbnNvcnMvJXUvIyJ9XSwiY2xpZW50aWQiOiJkZXZpY2UtMSJ9.Lj05zEtyoIO-M09klscKMMjOYE3GvXUxNMDwaDyD6Io"
    static let forged = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImhzIn0.eyJ1c2VybmFtZSI6ImFsaWNlIiwiZXhwIjoyMDAwMDAwMDAwLCJpc3MiOiJ0cmlidXRhcnktdGVzdHMiLCJhY2wiOlt7InBlcm1pc3Npb24iOiJhbGxvdyIsImFjdGlvbiI6InB1Ymxpc2giLCJ0b3BpYyI6InNlbnNvcnMvJXUvIyJ9XX0.U5dOaEviaXFQ4Fxx31FLJq0dPZ4T95EXLW2eA3-ftdo"
    static let unsigned = "eyJhbGciOiJub25lIiwia2lkIjoiaHMifQ.eyJ1c2VybmFtZSI6ImFsaWNlIiwiZXhwIjoyMDAwMDAwMDAwLCJpc3MiOiJ0cmlidXRhcnktdGVzdHMiLCJhY2wiOlt7InBlcm1pc3Npb24iOiJhbGxvdyIsImFjdGlvbiI6InB1Ymxpc2giLCJ0b3BpYyI6InNlbnNvcnMvJXUvIyJ9XX0."
    static let withoutUser = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImhzIn0.eyJleHAiOjIwMDAwMDAwMDAsImlzcyI6InRyaWJ1dGFyeS10ZXN0cyJ9.ZgaAtIauulUXyINUQBXfDOrYuo6uDHJwlILayNPQc4Q"

    static func authenticator(at seconds: Double, issuer: String? = "tributary-tests") throws -> MQTTJWTAuthenticator {
        let key = try JWTKey.secret(id: "hs", bytes: Array("0123456789abcdef0123456789abcdef".utf8), file: "test")
        return MQTTJWTAuthenticator(
            verifier: JWTVerifier(keySet: JWTKeySet([key]), options: JWTValidationOptions(issuer: issuer)),
            logger: Logger(label: "test"), clock: { Date(timeIntervalSince1970: seconds) })
    }

    static func credentials(_ password: String?, client: String = "device-1", user: String? = "ignored") -> MQTTConnectCredentials {
        MQTTConnectCredentials(
            clientIdentifier: client, userName: user, password: password.map { ByteBuffer(string: $0) }, remoteAddress: nil,
            protocolVersion: .v5)
    }

    @Test("a valid token is accepted as its username claim, with its acl claim in the context")
    func validToken() throws {
        let outcome = try Self.authenticator(at: 1_900_000_000).decide(Self.credentials(Self.valid))
        guard case .allow(let context) = outcome else {
            Issue.record("expected allow, got \(outcome)")
            return
        }
        #expect(context.userName == "alice")
        #expect(context.mechanism == .jwt)
        #expect(context.jwtACL == [JWTACLEntry(permission: .allow, action: .publish, topic: "sensors/%u/#")])
    }

    @Test("expired, forged, unsigned and user-less tokens and a wrong issuer are refused with 0x86")
    func refusedTokens() throws {
        let now = try Self.authenticator(at: 1_900_000_000)
        #expect(try Self.authenticator(at: 2_000_000_100).decide(Self.credentials(Self.valid)) == .deny(.badUserNameOrPassword))
        #expect(now.decide(Self.credentials(Self.forged)) == .deny(.badUserNameOrPassword))
        #expect(now.decide(Self.credentials(Self.unsigned)) == .deny(.badUserNameOrPassword))
        #expect(now.decide(Self.credentials(Self.withoutUser)) == .deny(.badUserNameOrPassword))
        #expect(try Self.authenticator(at: 1_900_000_000, issuer: "other").decide(Self.credentials(Self.valid)) == .deny(.badUserNameOrPassword))
    }

    @Test("a token bound to a client id is accepted only for that client id (else 0x87)")
    func boundToClientIdentifier() throws {
        let authenticator = try Self.authenticator(at: 1_900_000_000)
        guard case .allow = authenticator.decide(Self.credentials(Self.bound, client: "device-1")) else {
            Issue.record("the bound client id was refused")
            return
        }
        #expect(authenticator.decide(Self.credentials(Self.bound, client: "device-2")) == .deny(.notAuthorized))
    }

    @Test("passwords that are not tokens, and no password, are left to the next mechanism")
    func notAToken() throws {
        let authenticator = try Self.authenticator(at: 1_900_000_000)
        #expect(authenticator.decide(Self.credentials("hunter2")) == .ignore)
        #expect(authenticator.decide(Self.credentials("a.b.c")) == .ignore)
        #expect(authenticator.decide(Self.credentials(nil)) == .ignore)
    }
}
