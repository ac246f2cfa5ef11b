import JournalServer
import NIOCore
import PropertyBased
import Shared
import Testing

@testable import BrokerServer

/// What the broker writes into the journal and meta, and the small pure pieces it routes with.
@Suite("MQTT broker encodings")
struct MQTTBrokerEncodingTests {
    @Test func aStoredMessageRoundTripsThroughItsRecord() throws {
        var properties = MQTTProperties()
        properties.payloadFormatIndicator = .utf8
        properties.messageExpiryInterval = 30
        properties.contentType = "text/plain"
        properties.responseTopic = "replies/1"
        properties.correlationData = ByteBuffer(bytes: [1, 2, 3])
        properties.userProperties = [MQTTUserProperty(name: "k", value: "v"), MQTTUserProperty(name: "k", value: "w")]
        properties.topicAlias = 4
        let message = MQTTStoredMessage(
            topic: "a/b", payload: ByteBuffer(string: "hello"), qos: .exactlyOnce, retain: true,
            publisherClientIdentifier: "pub-1", properties: properties, receivedAtMillis: 1_700_000_000_123)
        #expect(message.properties.topicAlias == nil, "a topic alias belongs to one connection and is not stored")
        let record = try message.record()
        #expect(record.key == ByteBuffer(string: "a/b"))
        #expect(record.value == ByteBuffer(string: "hello"))
        #expect(record.timestamp == 1_700_000_000_123)
        #expect(try MQTTStoredMessage(record: record) == message)

        let anonymous = MQTTStoredMessage(
            topic: "$SYS/broker/uptime", payload: ByteBuffer(), qos: .atMostOnce, retain: false,
            publisherClientIdentifier: nil, properties: MQTTProperties(), receivedAtMillis: 0)
        #expect(try MQTTStoredMessage(record: anonymous.record()) == anonymous)
    }

    @Test func foreignRecordsAreRejectedWithATypedError() throws {
        #expect(throws: WireDecodingError.self) {
            try MQTTStoredMessage(record: Record(timestamp: 0, key: ByteBuffer(string: "t"), value: nil))
        }
        #expect(throws: WireDecodingError.self) {
            try MQTTStoredMessage(record: Record(timestamp: 0, key: ByteBuffer(string: "a/#"), value: nil))
        }
        let truncated = RecordHeader(key: MQTTStoredMessage.headerKey, value: ByteBuffer(bytes: [1, 0x08, 5]))
        #expect(throws: WireDecodingError.self) {
            try MQTTStoredMessage(record: Record(timestamp: 0, key: ByteBuffer(string: "t"), value: nil, headers: [truncated]))
        }
        let badFlags = RecordHeader(key: MQTTStoredMessage.headerKey, value: ByteBuffer(bytes: [1, 0x03, 0, 0]))
        #expect(throws: WireDecodingError.self) {
            try MQTTStoredMessage(record: Record(timestamp: 0, key: ByteBuffer(string: "t"), value: nil, headers: [badFlags]))
        }
    }

    @Test func aStoredSessionRoundTripsWithItsCursors() throws {
        var state = MQTTSessionState(clientIdentifier: "client-7", sessionExpiryInterval: 600)
        state.subscriptions["a/+"] = .init(subscription: MQTTSubscription(topicFilter: "a/+", qos: .atLeastOnce), subscriptionIdentifier: 5)
        state.inFlight[3] = .init(
            publish: MQTTPublish(qos: .atLeastOnce, topicName: "a/b", packetIdentifier: 3, payload: ByteBuffer(string: "x")),
            phase: .awaitingPubAck, sequence: 1)
        state.pendingInboundQoS2 = [9]
        let stored = MQTTStoredSession(state: state, cursors: [0, 17, 4_000_000_000], disconnectedAtMillis: 1_700_000_000_000)
        #expect(try MQTTStoredSession(decoding: stored.encode()) == stored)
        #expect(stored.remainingMillis(nowMillis: 1_700_000_100_000) == 500_000)
        #expect(stored.remainingMillis(nowMillis: 1_700_001_000_000) == 0)
        var forever = stored
        forever.state.sessionExpiryInterval = UInt32.max
        #expect(forever.remainingMillis(nowMillis: 0) == nil, "3.x persistent sessions never expire")
        #expect(throws: WireDecodingError.self) { try MQTTStoredSession(decoding: [2, 0, 0]) }
        #expect(throws: WireDecodingError.self) { try MQTTStoredSession(decoding: Array(stored.encode().dropLast())) }
    }

    @Test func topicsMapToShardsByFNV1a() {
        // The published FNV-1a 32-bit test vectors.
        #expect(MQTTShardMap.fnv1a("") == 0x811C_9DC5)
        #expect(MQTTShardMap.fnv1a("a") == 0xE40C_292C)
        #expect(MQTTShardMap.fnv1a("foobar") == 0xBF9C_F968)
        let map = MQTTShardMap(count: 16)
        #expect(map.shard(of: "foobar") == Int(0xBF9C_F968 % 16))
        #expect(map.names.first == "mqtt-0" && map.names.last == "mqtt-15")
        #expect(MQTTShardMap(count: 0).count == 1)
    }

    @Test func theRetainedIndexKeepsTheNewestRecordPerTopic() {
        func message(_ topic: String, _ payload: String) -> MQTTStoredMessage {
            MQTTStoredMessage(
                topic: topic, payload: ByteBuffer(string: payload), qos: .atLeastOnce, retain: true,
                publisherClientIdentifier: nil, properties: MQTTProperties(), receivedAtMillis: 0)
        }
        var index = MQTTRetainedIndex()
        index.apply(message("a/1", "new"), offset: 5)
        index.apply(message("a/1", "old"), offset: 3)
        index.apply(message("a/2", "x"), offset: 6)
        index.apply(message("b", "y"), offset: 7)
        #expect(index.matching("a/+").map { String(buffer: $0.payload) } == ["new", "x"])
        index.apply(message("a/2", ""), offset: 8)
        index.apply(message("a/2", "stale"), offset: 6)
        #expect(index.matching("#").map(\.topic) == ["a/1", "b"])
        #expect(index.count == 2)
    }

    /// The retained index's matcher agrees with the subscription index on random filters and topics.
    @Test func theTopicMatcherAgreesWithTheSubscriptionIndex() async {
        let level = Gen.int(in: 0...4).map { ["a", "b", "$x", "", "c"][$0] }
        let filterLevel = Gen.int(in: 0...6).map { ["a", "b", "$x", "", "+", "#", "c"][$0] }
        let topic = level.array(of: 1...4).map { $0.joined(separator: "/") }
        let filter = filterLevel.array(of: 1...4).map { $0.joined(separator: "/") }
        await propertyCheck(input: filter, topic) { filter, topic in
            guard MQTTTopic.isValidPlainFilter(filter), MQTTTopic.isValidTopicName(topic) else { return }
            var index = SubscriptionIndex()
            index.insert(.init(clientIdentifier: "c", subscription: MQTTSubscription(topicFilter: filter, qos: .atMostOnce)))
            let expected = !index.match(topic: topic).subscribers.isEmpty
            #expect(MQTTTopicMatcher.matches(filter: filter, topic: topic) == expected, "filter \(filter) topic \(topic)")
        }
    }
}
