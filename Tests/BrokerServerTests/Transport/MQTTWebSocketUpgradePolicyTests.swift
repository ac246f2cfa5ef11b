import NIOHTTP1
import Testing

@testable import BrokerServer

@Suite("MQTT WebSocket upgrade policy")
struct MQTTWebSocketUpgradePolicyTests {
    private func head(_ uri: String, method: HTTPMethod = .GET, _ headers: [(String, String)]) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: HTTPHeaders(headers))
    }

    private let upgrade = [("Upgrade", "websocket"), ("Connection", "Upgrade")]
    private let policy = MQTTWebSocketUpgradePolicy()

    @Test("the mqtt subprotocol on the configured path is accepted, with or without a query or other offers")
    func accepts() {
        #expect(policy.decide(head("/mqtt", upgrade + [("Sec-WebSocket-Protocol", "mqtt")])) == .accept)
        #expect(policy.decide(head("/mqtt?client=1", upgrade + [("Sec-WebSocket-Protocol", "mqtt")])) == .accept)
        #expect(policy.decide(head("/mqtt", upgrade + [("Sec-WebSocket-Protocol", "mqttv3.1, MQTT")])) == .accept)
        #expect(policy.decide(head("/mqtt", upgrade + [("Sec-WebSocket-Protocol", "chat"), ("Sec-WebSocket-Protocol", "mqtt")])) == .accept)
        #expect(MQTTWebSocketUpgradePolicy(path: "ws").decide(head("/ws", upgrade + [("Sec-WebSocket-Protocol", "mqtt")])) == .accept)
    }

    @Test("another path is not found, whatever it offers")
    func otherPath() {
        #expect(policy.decide(head("/", upgrade + [("Sec-WebSocket-Protocol", "mqtt")])) == .notFound(path: "/"))
        #expect(policy.decide(head("/mqtt/x", upgrade + [("Sec-WebSocket-Protocol", "mqtt")])) == .notFound(path: "/mqtt/x"))
        #expect(policy.decide(head("/MQTT", [])) == .notFound(path: "/MQTT"))
    }

    @Test("the right path without the mqtt subprotocol, without an upgrade, or not a GET is a bad request")
    func badRequests() {
        let cases: [HTTPRequestHead] = [
            head("/mqtt", upgrade),
            head("/mqtt", upgrade + [("Sec-WebSocket-Protocol", "mqttv3.1")]),
            head("/mqtt", upgrade + [("Sec-WebSocket-Protocol", " , ")]),
            head("/mqtt", [("Sec-WebSocket-Protocol", "mqtt")]),
            head("/mqtt", method: .POST, upgrade + [("Sec-WebSocket-Protocol", "mqtt")]),
        ]
        for request in cases {
            guard case .badRequest = policy.decide(request) else {
                Issue.record("expected 400 for \(request)")
                continue
            }
        }
    }
}
