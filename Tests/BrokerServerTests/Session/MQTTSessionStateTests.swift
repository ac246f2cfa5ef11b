import NIOCore
import PropertyBased
import Shared
import Testing

@testable import BrokerServer

/// Encoding of the persistent session state.
@Suite("MQTT session state encoding")
struct MQTTSessionStateTests {
    typealias F = SessionFixtures

    static func roundTrip(_ state: MQTTSessionState) throws -> MQTTSessionState {
        var buffer = ByteBuffer()
        try state.encode(into: &buffer)
        let decoded = try MQTTSessionState(decoding: &buffer)
        #expect(buffer.readableBytes == 0)
        return decoded
    }

    @Test("A state with subscriptions, in-flight messages and pending QoS 2 ids round-trips")
    func roundTripExample() throws {
        var state = MQTTSessionConformance.richState()
        #expect(try Self.roundTrip(state) == state)
        state.subscriptions = [:]
        state.inFlight = [:]
        #expect(try Self.roundTrip(state) == state)
    }

    @Test("Equal states encode to equal bytes")
    func deterministic() throws {
        var a = ByteBuffer()
        var b = ByteBuffer()
        try MQTTSessionConformance.richState().encode(into: &a)
        try MQTTSessionConformance.richState().encode(into: &b)
        #expect(a == b)
    }

    @Test("Random states round-trip")
    func randomRoundTrip() async {
        let filters = Gen.int(in: 0...4).map { ["a/+", "#", "$share/g/x", "b/c", "$queue/q"][$0] }
        await propertyCheck(
            input: zip(filters, Gen.int(in: 0...2), Gen.uint32(in: 0...268_435_455)).array(of: 0...5),
            Gen.uint16(in: 1...UInt16.max).array(of: 0...6), Gen.uint16(in: 0...UInt16.max)
        ) { subscriptions, identifiers, next in
            var state = MQTTSessionState(clientIdentifier: "c-\(next)", nextPacketIdentifier: next, nextSequence: UInt64(next) * 3, sessionExpiryInterval: UInt32(next))
            for (filter, qos, identifier) in subscriptions {
                let subscription = MQTTSubscription(topicFilter: filter, qos: MQTTQoS(rawValue: UInt8(qos)) ?? .atMostOnce, retainAsPublished: qos == 1)
                state.subscriptions[filter] = .init(subscription: subscription, subscriptionIdentifier: identifier == 0 ? nil : identifier)
            }
            for (index, identifier) in identifiers.enumerated() {
                let qos: MQTTQoS = index % 2 == 0 ? .atLeastOnce : .exactlyOnce
                let phase: MQTTSessionState.OutboundPhase = qos == .atLeastOnce ? .awaitingPubAck : (index % 3 == 0 ? .awaitingPubComp : .awaitingPubRec)
                state.inFlight[identifier] = .init(publish: F.publish("t/\(index)", "p\(index)", qos: qos, id: identifier), phase: phase, sequence: UInt64(index))
                state.pendingInboundQoS2.insert(identifier &+ 1 == 0 ? 1 : identifier &+ 1)
            }
            #expect((try? Self.roundTrip(state)) == state)
        }
    }

    @Test("Truncated or corrupted bytes give a typed error, never a trap")
    func malformed() throws {
        var buffer = ByteBuffer()
        try MQTTSessionConformance.richState().encode(into: &buffer)
        let bytes = Array(buffer.readableBytesView)
        for length in 0..<bytes.count {
            var truncated = ByteBuffer(bytes: bytes[0..<length])
            #expect(throws: WireDecodingError.self) { try MQTTSessionState(decoding: &truncated) }
        }
        var badVersion = ByteBuffer(bytes: [9] + bytes.dropFirst())
        #expect(throws: WireDecodingError.unknownTag(what: "session state version", tag: 9)) { try MQTTSessionState(decoding: &badVersion) }
        // Flip every byte once: decoding either fails with a typed error or yields some state.
        for index in bytes.indices {
            var corrupted = bytes
            corrupted[index] ^= 0xFF
            var input = ByteBuffer(bytes: corrupted)
            _ = try? MQTTSessionState(decoding: &input)
        }
    }
}

/// Shared example states.
enum MQTTSessionConformance {
    static func richState() -> MQTTSessionState {
        var state = MQTTSessionState(clientIdentifier: "sensor-1", nextPacketIdentifier: 300, nextSequence: 12, sessionExpiryInterval: 3_600)
        state.subscriptions["a/#"] = .init(
            subscription: MQTTSubscription(topicFilter: "a/#", qos: .exactlyOnce, noLocal: true, retainAsPublished: true, retainHandling: .doNotSend),
            subscriptionIdentifier: 77)
        state.subscriptions["$share/g/b"] = .init(subscription: MQTTSubscription(topicFilter: "$share/g/b", qos: .atLeastOnce))
        var properties = MQTTProperties()
        properties.messageExpiryInterval = 30
        properties.subscriptionIdentifiers = [77, 5]
        properties.userProperties = [MQTTUserProperty(name: "k", value: "v")]
        let publish = MQTTPublish(qos: .exactlyOnce, retain: true, topicName: "a/x", packetIdentifier: 299, properties: properties, payload: ByteBuffer(string: "payload"))
        state.inFlight[299] = .init(publish: publish, phase: .awaitingPubComp, sequence: 11)
        state.inFlight[12] = .init(publish: SessionFixtures.publish("a/y", qos: .atLeastOnce, id: 12), phase: .awaitingPubAck, sequence: 4)
        state.pendingInboundQoS2 = [1, 65_535]
        return state
    }
}
