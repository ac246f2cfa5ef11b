import NIOCore
import PropertyBased
import Testing

@testable import BrokerServer

@Suite("MQTT codec properties")
struct MQTTCodecPropertyTests {
    typealias Support = MQTTCodecTestSupport

    @Test("random valid packets round trip", arguments: MQTTProtocolVersion.allCases)
    func randomPacketsRoundTrip(version: MQTTProtocolVersion) async {
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in
            var generator = MQTTRandomPacketGenerator(seed: seed, version: version)
            let packet = generator.packet()
            do {
                let bytes = try Support.encode(packet, version: version)
                let decoded = try Support.decodeOne(bytes, with: Support.receivingDecoder(for: packet, version: version))
                #expect(decoded == packet)
            } catch {
                Issue.record("\(packet) failed: \(error)")
            }
        }
    }

    @Test("a random stream of valid packets decodes in order, whatever the chunking", arguments: MQTTProtocolVersion.allCases)
    func randomStreams(version: MQTTProtocolVersion) async {
        await propertyCheck(count: 50, input: Gen.uint64()) { seed in
            var generator = MQTTRandomPacketGenerator(seed: seed, version: version)
            var packets: [MQTTPacket] = []
            var stream = ByteBuffer()
            for _ in 0..<generator.int(1...8) {
                var packet = generator.packet(includeConnect: false)
                // Keep to packets a client sends, so one server-side decoder reads them all.
                while !packet.type.isSentByClient { packet = generator.packet(includeConnect: false) }
                packets.append(packet)
                try? packet.encode(version: version, into: &stream)
            }
            var decoder = MQTTDecoder(role: .server, version: version)
            var input = ByteBuffer()
            var decoded: [MQTTPacket] = []
            var remaining = stream
            do {
                while remaining.readableBytes > 0 {
                    var chunk = remaining.readSlice(length: min(remaining.readableBytes, generator.int(1...64))) ?? ByteBuffer()
                    input.writeBuffer(&chunk)
                    while let packet = try decoder.decodePacket(buffer: &input) { decoded.append(packet) }
                }
            } catch {
                Issue.record("stream failed: \(error)")
            }
            #expect(decoded == packets)
            #expect(input.readableBytes == 0)
        }
    }

    @Test("random bytes decode or fail with a typed error, never trap or over-read", arguments: MQTTProtocolVersion.allCases)
    func randomBytesNeverTrap(version: MQTTProtocolVersion) async {
        await propertyCheck(count: 500, input: Gen.uint8().array(of: 0...80)) { bytes in
            for decoder in [MQTTDecoder(), MQTTDecoder(role: .server, version: version), MQTTDecoder(role: .client, version: version)] {
                var decoder = decoder
                var input = ByteBuffer(bytes: bytes)
                do throws(MQTTDecodeError) {
                    while let _ = try decoder.decodePacket(buffer: &input) {}
                } catch {
                    // A typed MQTTDecodeError: fine. Its reason code is always a failure code.
                    #expect(error.reasonCode.isFailure)
                }
                #expect(input.readableBytes <= bytes.count)
            }
        }
    }

    @Test("random bodies behind a well-formed fixed header never trap", arguments: MQTTProtocolVersion.allCases)
    func randomBodiesNeverTrap(version: MQTTProtocolVersion) async {
        await propertyCheck(count: 1_000, input: Gen.uint8().array(of: 1...60)) { bytes in
            // First byte picks type and flags; the rest is the body, framed correctly.
            var framed = ByteBuffer()
            framed.writeInteger(bytes[0])
            framed.writeMQTTVariableByteInteger(bytes.count - 1)
            framed.writeBytes(bytes.dropFirst())
            for decoder in [MQTTDecoder(), MQTTDecoder(role: .server, version: version), MQTTDecoder(role: .client, version: version)] {
                var decoder = decoder
                var input = framed
                do throws(MQTTDecodeError) {
                    _ = try decoder.decodePacket(buffer: &input)
                    // Anything accepted was consumed whole.
                    #expect(input.readableBytes == 0)
                } catch {
                    #expect(error.reasonCode.isFailure)
                }
            }
        }
    }

    @Test("remaining length beyond the maximum packet size is rejected before buffering the body")
    func oversizedRejectedEarly() async {
        await propertyCheck(count: 300, input: Gen.int(in: 2...100_000)) { limit in
            let declared = limit + Int(UInt32(truncatingIfNeeded: limit &* 2_654_435_761) % 1_000_000)
            let remaining = min(declared, MQTTPacket.maximumRemainingLength)
            var header = ByteBuffer()
            header.writeInteger(UInt8(0x30))
            header.writeMQTTVariableByteInteger(remaining)
            let size = header.readableBytes + remaining
            guard size > limit else { return }
            var decoder = MQTTDecoder(role: .server, version: .v5, configuration: .init(maximumPacketSize: limit))
            var input = header
            #expect(throws: MQTTDecodeError.packetTooLarge(size: size, limit: limit)) {
                _ = try decoder.decodePacket(buffer: &input)
            }
        }
    }

    @Test("encoding never exceeds a peer's maximum packet size")
    func encoderHonoursMaximum() async {
        await propertyCheck(count: 200, input: Gen.uint64()) { seed in
            var generator = MQTTRandomPacketGenerator(seed: seed, version: .v5)
            let packet = generator.packet()
            let limit = generator.int(2...200)
            var out = ByteBuffer(string: "prefix")
            do throws(MQTTEncodeError) {
                try packet.encode(version: .v5, into: &out, maximumPacketSize: limit)
                #expect(out.readableBytes - 6 <= limit)
            } catch {
                #expect(error == .packetTooLarge(size: (try? Support.encode(packet, version: .v5).readableBytes) ?? -1, limit: limit))
                #expect(out == ByteBuffer(string: "prefix"))
            }
        }
    }
}
