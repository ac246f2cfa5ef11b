import NIOCore
import Testing

@testable import BrokerServer

private typealias F = SessionFixtures

/// Transcripts of MQTT 5 enhanced authentication in the IO-free session: the driver completes
/// the CONNECT's exchange, the session answers CONNACK with method and data; re-authentication
/// goes through `authenticate` actions answered by `reauthenticationStep` events.
@Suite("session: enhanced authentication and re-authentication")
struct MQTTSessionAuthTests {
    static let method = "SCRAM-SHA-256"

    static func authProperties(_ data: String?) -> MQTTProperties {
        F.v5Properties {
            $0.authenticationMethod = method
            $0.authenticationData = data.map { ByteBuffer(string: $0) }
        }
    }

    static func connected() -> SessionHarness {
        var harness = SessionHarness()
        let connect = F.connect(.v5, properties: authProperties("client-first"))
        _ = harness.handle(.enhancedAuthenticationCompleted(connect, authenticationData: ByteBuffer(string: "server-final")))
        return harness
    }

    @Test("a completed exchange connects; CONNACK carries the method and the server's final data")
    func connackCarriesAuthentication() {
        var harness = SessionHarness()
        let connect = F.connect(.v5, properties: Self.authProperties("client-first"))
        let actions = harness.handle(.enhancedAuthenticationCompleted(connect, authenticationData: ByteBuffer(string: "server-final")))
        let expected = F.defaultConnAckProperties {
            $0.authenticationMethod = Self.method
            $0.authenticationData = ByteBuffer(string: "server-final")
        }
        #expect(actions == [.send([.connack(MQTTConnAck(properties: expected))])])
        #expect(harness.session.phase == .connected)
    }

    @Test("re-authentication: AUTH 0x19 → authenticate, continue → AUTH 0x18, 0x18 → authenticate, success → AUTH 0x00")
    func reauthentication() {
        var harness = Self.connected()
        let start = MQTTAuth(reasonCode: .reAuthenticate, properties: Self.authProperties("first"))
        #expect(harness.receive(.auth(start)) == [.authenticate(start)])
        #expect(harness.handle(.reauthenticationStep(.continue(ByteBuffer(string: "challenge")))) == [
            .send([.auth(MQTTAuth(reasonCode: .continueAuthentication, properties: Self.authProperties("challenge")))]),
        ])
        let answer = MQTTAuth(reasonCode: .continueAuthentication, properties: Self.authProperties("proof"))
        #expect(harness.receive(.auth(answer)) == [.authenticate(answer)])
        #expect(harness.handle(.reauthenticationStep(.success(ByteBuffer(string: "verifier")))) == [
            .send([.auth(MQTTAuth(reasonCode: .success, properties: Self.authProperties("verifier")))]),
        ])
        // Still connected, and a new re-authentication may start.
        #expect(harness.receive(.pingreq) == [.send([.pingresp])])
        #expect(harness.receive(.auth(start)) == [.authenticate(start)])
    }

    @Test("a failed re-authentication disconnects with 0x87 (0x86 is no DISCONNECT code) and ends the session")
    func failedReauthentication() {
        var harness = Self.connected()
        _ = harness.receive(.auth(MQTTAuth(reasonCode: .reAuthenticate, properties: Self.authProperties("first"))))
        #expect(harness.handle(.reauthenticationStep(.failure(.badUserNameOrPassword))) == [
            .close(MQTTDisconnect(reasonCode: .notAuthorized)), .discard(clientIdentifier: "client"),
        ])
        #expect(harness.session.phase == .closed)
    }

    @Test("AUTH with another method, 0x18 without an exchange, or 0x19 during one is a Protocol Error")
    func protocolErrors() {
        var otherMethod = Self.connected()
        var properties = Self.authProperties("x")
        properties.authenticationMethod = "OTHER"
        #expect(otherMethod.receive(.auth(MQTTAuth(reasonCode: .reAuthenticate, properties: properties))) == [
            .close(MQTTDisconnect(reasonCode: .protocolError)), .discard(clientIdentifier: "client"),
        ])
        var unexpectedContinue = Self.connected()
        #expect(unexpectedContinue.receive(.auth(MQTTAuth(reasonCode: .continueAuthentication, properties: Self.authProperties("x")))) == [
            .close(MQTTDisconnect(reasonCode: .protocolError)), .discard(clientIdentifier: "client"),
        ])
        var doubleStart = Self.connected()
        let start = MQTTAuth(reasonCode: .reAuthenticate, properties: Self.authProperties("x"))
        _ = doubleStart.receive(.auth(start))
        #expect(doubleStart.receive(.auth(start)) == [
            .close(MQTTDisconnect(reasonCode: .protocolError)), .discard(clientIdentifier: "client"),
        ])
    }

    @Test("a step answer without a re-authentication in progress is ignored")
    func strayStep() {
        var harness = Self.connected()
        #expect(harness.handle(.reauthenticationStep(.success(nil))) == [])
        #expect(harness.session.phase == .connected)
    }
}
