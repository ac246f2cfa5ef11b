import Logging
import MetaService
import NIOCore
import NIOPosix
import Shared
import Testing

@testable import BrokerServer

@Suite("password authenticator")
struct MQTTPasswordAuthenticatorTests {
    static func authenticator() throws -> MQTTPasswordAuthenticator {
        let directory = MQTTUserDirectory(logger: Logger(label: "test"))
        let alice = try UserRecord(username: "alice", password: "right", isSuperuser: true, iterations: 1000)
        directory.install([alice.key: alice])
        return MQTTPasswordAuthenticator(directory: directory, logger: Logger(label: "test"))
    }

    static func decide(_ authenticator: MQTTPasswordAuthenticator, user: String?, password: String?) async throws -> MQTTAuthOutcome {
        let credentials = MQTTConnectCredentials(
            clientIdentifier: "c", userName: user, password: password.map { ByteBuffer(string: $0) }, remoteAddress: nil,
            protocolVersion: .v3_1_1)
        return try await authenticator.authenticate(credentials, on: MultiThreadedEventLoopGroup.singleton.next()).get()
    }

    @Test("right password allows (with the super-user flag); wrong or missing 0x86; unknown users and no user name pass on")
    func decisions() async throws {
        let authenticator = try Self.authenticator()
        #expect(try await Self.decide(authenticator, user: "alice", password: "right")
            == .allow(MQTTAuthContext(userName: "alice", isSuperuser: true, mechanism: .password)))
        #expect(try await Self.decide(authenticator, user: "alice", password: "wrong") == .deny(.badUserNameOrPassword))
        #expect(try await Self.decide(authenticator, user: "alice", password: nil) == .deny(.badUserNameOrPassword))
        #expect(try await Self.decide(authenticator, user: "bob", password: "right") == .ignore)
        #expect(try await Self.decide(authenticator, user: nil, password: "right") == .ignore)
    }

    @Test("unknown users are verified against a dummy hash with the default cost, so they take as long")
    func dummyCost() throws {
        #expect(try Self.authenticator().dummy.iterations == PasswordHasher.defaultIterations)
    }

    @Test("SCRAM-SHA-256 is offered, other methods are not")
    func methods() throws {
        let authenticator = try Self.authenticator()
        #expect(authenticator.makeExchange(method: "SCRAM-SHA-256")?.method == "SCRAM-SHA-256")
        #expect(authenticator.makeExchange(method: "SCRAM-SHA-1") == nil)
    }
}
