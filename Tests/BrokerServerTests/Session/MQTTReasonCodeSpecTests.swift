import NIOCore
import Testing

@testable import BrokerServer

/// Reason codes the specification prescribes for invalid input, checked end to end:
/// bytes → decoder error → session → DISCONNECT.
@Suite("MQTT reason codes required by the specification")
struct MQTTReasonCodeSpecTests {
    /// A v5 PUBLISH "t" (QoS 0) with the given property bytes.
    static func publish(properties: [UInt8]) -> ByteBuffer {
        let body: [UInt8] = [0x00, 0x01, UInt8(ascii: "t"), UInt8(properties.count)] + properties
        return ByteBuffer(bytes: [0x30, UInt8(body.count)] + body)
    }

    static func disconnectCode(for bytes: ByteBuffer) -> MQTTSessionAction? {
        var harness = SessionHarness()
        harness.connect(SessionFixtures.connect(.v5))
        var decoder = MQTTDecoder(role: .server, version: .v5)
        var input = bytes
        do {
            let packet = try decoder.decodePacket(buffer: &input)
            guard let packet else { return nil }
            return harness.receive(packet).first
        } catch {
            return harness.handle(.decodeFailed(error)).first
        }
    }

    @Test("Topic Alias 0 → 0x94 Topic Alias invalid (MQTT 5.0 §3.3.2.3.4, MQTT-3.3.2-8)")
    func topicAliasZero() {
        #expect(Self.disconnectCode(for: Self.publish(properties: [0x23, 0x00, 0x00])) == .close(MQTTDisconnect(reasonCode: .topicAliasInvalid)))
    }

    @Test("Topic Alias above the maximum → 0x94; unmapped alias with empty topic → 0x82")
    func topicAliasAboveMaximum() {
        #expect(Self.disconnectCode(for: Self.publish(properties: [0x23, 0x00, 0x11])) == .close(MQTTDisconnect(reasonCode: .topicAliasInvalid)))
        let body: [UInt8] = [0x00, 0x00, 0x03, 0x23, 0x00, 0x01]
        #expect(Self.disconnectCode(for: ByteBuffer(bytes: [0x30, UInt8(body.count)] + body)) == .close(MQTTDisconnect(reasonCode: .protocolError)))
    }

    @Test("Reserved subscription option bits → 0x81 (MQTT-3.8.3-5); No Local on a shared subscription → 0x82 (MQTT-3.8.3-4)")
    func subscriptionOptions() {
        func subscribe(_ filter: String, _ options: UInt8) -> ByteBuffer {
            let body: [UInt8] = [0x00, 0x01, 0x00] + [0x00, UInt8(filter.utf8.count)] + Array(filter.utf8) + [options]
            return ByteBuffer(bytes: [0x82, UInt8(body.count)] + body)
        }
        #expect(Self.disconnectCode(for: subscribe("a", 0x40)) == .close(MQTTDisconnect(reasonCode: .malformedPacket)))
        #expect(Self.disconnectCode(for: subscribe("$share/g/a", 0x04)) == .close(MQTTDisconnect(reasonCode: .protocolError)))
        #expect(Self.disconnectCode(for: subscribe("a", 0x30)) == .close(MQTTDisconnect(reasonCode: .protocolError)))
    }

    @Test("PUBLISH with both QoS bits set → 0x81 (MQTT-3.3.1-4)")
    func publishQoS3() {
        let body: [UInt8] = [0x00, 0x01, UInt8(ascii: "t"), 0x00, 0x01, 0x00]
        #expect(Self.disconnectCode(for: ByteBuffer(bytes: [0x36, UInt8(body.count)] + body)) == .close(MQTTDisconnect(reasonCode: .malformedPacket)))
    }
}
