import Foundation
import Testing

/// The per-client and per-node limits (`mqtt.limits.*`) on paho and hand-made clients
/// (tests/paho/authz.py `limits`): message rate (0x96), subscription quota (0x97 / 0x80),
/// bandwidth throttling without loss, connection rate (0x9F / return code 3).
@Suite("MQTT limits on a standalone node", .serialized)
struct ACLLimitsProcessTests {
    @Test func everyLimitIsEnforced() async throws {
        let node = try await ACLTestNode.start(environment: [
            "TRIBUTARY_MQTT_LIMITS_MESSAGE_RATE": "20",
            "TRIBUTARY_MQTT_LIMITS_MAX_SUBSCRIPTIONS": "3",
            "TRIBUTARY_MQTT_LIMITS_BANDWIDTH": "20000",
            "TRIBUTARY_MQTT_LIMITS_CONNECT_RATE": "10",
        ])
        let script = try AuthzScript(port: node.mqttPort, phase: "limits")
        #expect(await script.succeeded(), "\(script.text)\nnode stderr: \(node.node.standardError)")
        await node.stop()
    }
}
