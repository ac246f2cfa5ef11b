import NIOCore
import NIOTestUtils
import Testing

@testable import BrokerServer

/// `ByteToMessageDecoderVerifier` feeds the samples whole, byte by byte, all at once and in
/// shuffled order; CONNECT changes decoder state, so it is covered by the drip-feed round trip.
@Suite("MQTT decoder verified with ByteToMessageDecoderVerifier")
struct MQTTDecoderVerifierTests {
    typealias Support = MQTTCodecTestSupport

    @Test("both roles, every version", arguments: MQTTProtocolVersion.allCases)
    func verify(version: MQTTProtocolVersion) throws {
        let packets = Support.samplePackets(version).filter { $0.type != .connect }
        for role in [MQTTDecoder.Role.server, .client] {
            let pairs: [(ByteBuffer, [MQTTPacket])] = try packets.compactMap { packet in
                guard Support.receivingDecoder(for: packet, version: version).role == role else { return nil }
                return (try Support.encode(packet, version: version), [packet])
            }
            #expect(!pairs.isEmpty)
            try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
                MQTTDecoder(role: role, version: version)
            }
        }
    }
}
