import NIOCore
import PropertyBased
import Testing

@testable import BrokerServer

/// Random interleavings of deliveries and client acknowledgements.
@Suite("MQTT session properties")
struct MQTTSessionPropertyTests {
    typealias F = SessionFixtures

    /// One step: deliver a message at a QoS (0...2), or acknowledge the oldest in-flight message (3).
    static let steps = Gen.int(in: 0...3).array(of: 1...60)

    @Test("Outbound order is kept, every message is sent once, the window never exceeds Receive Maximum")
    func windowAndOrder() async {
        await propertyCheck(input: Gen.int(in: 1...4), Self.steps, Gen.bool) { receiveMaximum, steps, v5 in
            var harness = SessionHarness(MQTTSessionConfiguration(maximumQueuedMessages: 1_000))
            let properties = v5 ? F.v5Properties { $0.receiveMaximum = UInt16(receiveMaximum) } : MQTTProperties()
            harness.connect(F.connect(v5 ? .v5 : .v3_1_1, properties: properties))
            let window = v5 ? receiveMaximum : Int(UInt16.max)
            var delivered: [String] = []
            var sent: [String] = []
            var inFlight: [(UInt16, MQTTQoS)] = []
            var releasing: UInt16?

            func record(_ actions: [MQTTSessionAction]) {
                for packet in F.sent(actions) {
                    switch packet {
                    case .publish(let publish):
                        sent.append(String(buffer: publish.payload))
                        if let identifier = publish.packetIdentifier {
                            #expect(!inFlight.contains { $0.0 == identifier }, "identifier \(identifier) reused while in flight")
                            inFlight.append((identifier, publish.qos))
                        }
                    case .pubrel(let release):
                        #expect(release.packetIdentifier == releasing)
                    default:
                        Issue.record("unexpected packet \(packet)")
                    }
                }
            }

            func acknowledgeOldest() {
                guard !inFlight.isEmpty else { return }
                let (identifier, qos) = inFlight.removeFirst()
                if qos == .atLeastOnce {
                    record(harness.receive(.puback(MQTTPubAck(packetIdentifier: identifier))))
                } else {
                    releasing = identifier
                    record(harness.receive(.pubrec(MQTTPubRec(packetIdentifier: identifier))))
                    releasing = nil
                    record(harness.receive(.pubcomp(MQTTPubComp(packetIdentifier: identifier))))
                }
            }

            for (index, step) in steps.enumerated() {
                if step == 3 {
                    acknowledgeOldest()
                } else {
                    let text = "m\(index)"
                    delivered.append(text)
                    let qos = MQTTQoS(rawValue: UInt8(step)) ?? .atMostOnce
                    record(harness.handle(.deliver(F.delivery("t", text, qos: qos))))
                }
                #expect(harness.session.inFlightCount <= window)
                #expect(harness.session.inFlightCount == inFlight.count)
            }
            while !inFlight.isEmpty { acknowledgeOldest() }
            #expect(harness.session.queuedCount == 0)
            #expect(sent == delivered)
        }
    }

    @Test("A session persisted at any point resumes with the same in-flight messages, resent with DUP")
    func persistAndResume() async {
        await propertyCheck(input: Gen.int(in: 1...3).array(of: 0...20)) { qosLevels in
            var harness = SessionHarness()
            harness.connect(F.connect(.v5, clean: false, properties: F.v5Properties { $0.sessionExpiryInterval = 60 }))
            for (index, level) in qosLevels.enumerated() {
                _ = harness.handle(.deliver(F.delivery("t", "m\(index)", qos: level == 1 ? .atLeastOnce : .exactlyOnce)))
            }
            let actions = harness.handle(.connectionClosed)
            guard case .persist(let state)? = actions.last else {
                Issue.record("expected persist, got \(actions)")
                return
            }
            var buffer = ByteBuffer()
            #expect(throws: Never.self) { try state.encode(into: &buffer) }
            guard let decoded = try? MQTTSessionState(decoding: &buffer) else {
                Issue.record("state did not decode")
                return
            }
            var resumed = SessionHarness(stored: decoded)
            let resent = F.sent(resumed.connect(F.connect(.v5, clean: false, properties: F.v5Properties { $0.sessionExpiryInterval = 60 })))
            let payloads = resent.dropFirst().compactMap { packet -> String? in
                guard case .publish(let publish) = packet, publish.dup else { return nil }
                return String(buffer: publish.payload)
            }
            #expect(payloads == qosLevels.indices.map { "m\($0)" })
        }
    }
}
