import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import BrokerServer

@Suite("authentication chain")
struct MQTTAuthChainTests {
    /// A mechanism answering the same for everyone, counting how often it was asked.
    final class Fixed: MQTTAuthenticator, Sendable {
        let outcome: MQTTAuthOutcome
        let counter = Mutex(0)
        var asked: Int { counter.withLock { $0 } }
        init(_ outcome: MQTTAuthOutcome) { self.outcome = outcome }
        func authenticate(_ credentials: MQTTConnectCredentials, on eventLoop: any EventLoop) -> EventLoopFuture<MQTTAuthOutcome> {
            counter.withLock { $0 += 1 }
            return eventLoop.makeSucceededFuture(outcome)
        }
    }

    static func credentials(user: String?) -> MQTTConnectCredentials {
        MQTTConnectCredentials(clientIdentifier: "c", userName: user, password: nil, remoteAddress: nil, protocolVersion: .v5)
    }

    static func decide(_ chain: MQTTAuthChain, user: String?) async throws -> MQTTAuthOutcome {
        try await chain.authenticate(credentials(user: user), on: MultiThreadedEventLoopGroup.singleton.next()).get()
    }

    @Test("the first definitive answer wins; later mechanisms are not asked")
    func firstDefinitiveAnswerWins() async throws {
        let ignoring = Fixed(.ignore)
        let denying = Fixed(.deny(.badUserNameOrPassword))
        let allowing = Fixed(.allow(MQTTAuthContext(userName: "u", mechanism: .http)))
        let chain = MQTTAuthChain([ignoring, denying, allowing], allowAnonymous: true, logger: Logger(label: "test"))
        #expect(try await Self.decide(chain, user: "u") == .deny(.badUserNameOrPassword))
        #expect(ignoring.asked == 1 && denying.asked == 1 && allowing.asked == 0)
    }

    @Test("when every mechanism ignores: unknown user 0x86, anonymous per allow-anonymous (0x87 when off)")
    func fallback() async throws {
        let closed = MQTTAuthChain([Fixed(.ignore)], allowAnonymous: false, logger: Logger(label: "test"))
        #expect(try await Self.decide(closed, user: "someone") == .deny(.badUserNameOrPassword))
        #expect(try await Self.decide(closed, user: nil) == .deny(.notAuthorized))
        let open = MQTTAuthChain([], allowAnonymous: true, logger: Logger(label: "test"))
        #expect(try await Self.decide(open, user: nil) == .allow(MQTTAuthContext(userName: nil, mechanism: .anonymous)))
        #expect(try await Self.decide(open, user: "someone") == .deny(.badUserNameOrPassword))
    }

    @Test("enhanced authentication methods come from the first mechanism offering them")
    func exchanges() {
        let chain = MQTTAuthChain([Fixed(.ignore)], allowAnonymous: true, logger: Logger(label: "test"))
        #expect(chain.makeExchange(method: "SCRAM-SHA-256") == nil)
    }
}
