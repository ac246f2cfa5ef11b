import MetaService
import NIOCore
import Shared
import Testing

@testable import BrokerServer

@Suite("SCRAM-SHA-256 exchange")
struct MQTTSCRAMExchangeTests {
    static let user = (try? UserRecord(username: "alice", password: "correct horse", isSuperuser: true, iterations: 4096))!

    static func exchange() -> MQTTSCRAMExchange {
        MQTTSCRAMExchange(lookup: { $0 == "alice" ? Self.user : nil })
    }

    /// Runs the two steps with a client; returns the final step and the client.
    static func run(username: String, password: String) -> (MQTTAuthStep, SCRAMClient) {
        var exchange = exchange()
        var client = SCRAMClient(username: username, password: password)
        guard case .continue(let serverFirst?) = exchange.step(ByteBuffer(bytes: client.clientFirst())) else {
            return (.failure(.unspecifiedError, "no server-first"), client)
        }
        guard let final = try? client.clientFinal(serverFirst: Array(serverFirst.readableBytesView)) else {
            return (.failure(.unspecifiedError, "client could not answer"), client)
        }
        return (exchange.step(ByteBuffer(bytes: final)), client)
    }

    @Test("the right password succeeds; the server-final message proves the server's keys")
    func success() {
        let (step, client) = Self.run(username: "alice", password: "correct horse")
        guard case .success(let context, let serverFinal?) = step else {
            Issue.record("expected success, got \(step)")
            return
        }
        #expect(context.userName == "alice")
        #expect(context.isSuperuser)
        #expect(context.mechanism == .scram)
        #expect(client.verify(serverFinal: Array(serverFinal.readableBytesView)))
    }

    @Test("a wrong password and an unknown user fail the same way (0x86)")
    func failures() {
        guard case .failure(let wrong, _) = Self.run(username: "alice", password: "wrong").0,
              case .failure(let unknown, _) = Self.run(username: "mallory", password: "correct horse").0
        else {
            Issue.record("expected failures")
            return
        }
        #expect(wrong == .badUserNameOrPassword)
        #expect(unknown == .badUserNameOrPassword)
    }

    @Test("missing or malformed data and a third step fail")
    func malformed() {
        var empty = Self.exchange()
        guard case .failure(.badUserNameOrPassword, _) = empty.step(nil) else {
            Issue.record("no data must fail")
            return
        }
        var garbage = Self.exchange()
        guard case .failure(.badUserNameOrPassword, _) = garbage.step(ByteBuffer(string: "hello")) else {
            Issue.record("garbage must fail")
            return
        }
        var exchange = Self.exchange()
        var client = SCRAMClient(username: "alice", password: "correct horse")
        guard case .continue(let first?) = exchange.step(ByteBuffer(bytes: client.clientFirst())),
              let final = try? client.clientFinal(serverFirst: Array(first.readableBytesView)),
              case .success = exchange.step(ByteBuffer(bytes: final))
        else {
            Issue.record("exchange did not succeed")
            return
        }
        guard case .failure(.protocolError, _) = exchange.step(ByteBuffer(bytes: final)) else {
            Issue.record("a third step must fail")
            return
        }
    }
}
