import NIOCore
import PropertyBased
import Shared
import Testing

@testable import MetaService

@Suite("Topic records")
struct TopicRecordTests {
    @Test func topicsRoundTrip() async {
        await propertyCheck(input: Gen.int(in: 1...TopicRecord.maxShards), Gen.int64(in: -1...Int64.max), Gen.uint64(), Gen.int(in: 0...5)) {
            shards, retention, created, extras in
            var settings = TopicRecord.Settings(replicationFactor: 1 + shards % 16, retentionMillis: retention, retentionBytes: retention / 3,
                                                maxMessageBytes: 1 + shards)
            for index in 0..<extras { settings.extra["setting.\(index)"] = String(repeating: "v", count: index) }
            let topic = TopicRecord(tenant: "acme", name: "orders-\(shards)", createdAtMillis: created, shardCount: shards, settings: settings)
            #expect((try? TopicRecord(bytes: topic.encodedBytes)) == topic)
        }
    }

    @Test func malformedTopicsAreTypedErrors() {
        let good = TopicRecord(tenant: "acme", name: "orders", createdAtMillis: 5, shardCount: 3,
                               settings: .init(extra: ["cleanup.policy": "compact"])).encodedBytes
        for length in 0..<good.count {
            #expect(throws: WireDecodingError.self) { try TopicRecord(bytes: Array(good.prefix(length))) }
        }
        #expect(throws: WireDecodingError.invalidValue(what: "topic record", reason: "trailing bytes")) { try TopicRecord(bytes: good + [0]) }
        #expect(throws: WireDecodingError.unknownTag(what: "topic record version", tag: 7)) { try TopicRecord(bytes: [7] + good.dropFirst()) }
        // Values that encode but are not valid topics are refused on decode.
        for bad in [
            TopicRecord(tenant: "acme", name: "no/slash", createdAtMillis: 0, shardCount: 1),
            TopicRecord(tenant: "", name: "x", createdAtMillis: 0, shardCount: 1),
            TopicRecord(tenant: "acme", name: "x", createdAtMillis: 0, shardCount: 0),
            TopicRecord(tenant: "acme", name: "x", createdAtMillis: 0, shardCount: 1, settings: .init(retentionMillis: -2)),
        ] {
            #expect(throws: WireDecodingError.self) { try TopicRecord(bytes: bad.encodedBytes) }
            #expect(throws: MetaRecordError.self) { try bad.validate() }
        }
        #expect(throws: MetaRecordError.invalidName(what: "topic", name: "..", reason: "reserved")) { try MetaRecordNames.validateTopic("..") }
    }

    @Test func groupsRoundTripAndRefuseMalformedInput() async throws {
        await propertyCheck(input: Gen.int32(in: -1...Int32.max), Gen.int(in: 0...20), Gen.int64(in: 0...Int64.max)) { generation, count, offset in
            var record = ConsumerGroupRecord(tenant: "t", group: "g.1", generation: generation, members: Set((0..<count).map { "member-\($0)" }))
            for index in 0..<count {
                record.offsets[TopicPartition(topic: "topic-\(index % 3)", partition: Int32(index))] =
                    CommittedOffset(offset: offset / Int64(index + 1), leaderEpoch: Int32(index) - 1, metadata: "m\(index)", committedAtMillis: UInt64(index))
            }
            #expect((try? ConsumerGroupRecord(bytes: record.encodedBytes)) == record)
        }
        let good = ConsumerGroupRecord(tenant: "t", group: "g", generation: 2, members: ["a"],
                                       offsets: [TopicPartition(topic: "x", partition: 0): CommittedOffset(offset: 1, committedAtMillis: 2)]).encodedBytes
        for length in 0..<good.count {
            #expect(throws: WireDecodingError.self) { try ConsumerGroupRecord(bytes: Array(good.prefix(length))) }
        }
        #expect(throws: WireDecodingError.self) { try ConsumerGroupRecord(bytes: good + [1]) }
        // A generation beyond 32 bits is refused, not truncated.
        var wide = ByteBuffer()
        wide.writeInteger(UInt8(1))
        wide.writeLengthPrefixed(string: "t")
        wide.writeLengthPrefixed(string: "g")
        wide.writeSignedVarint(Int64(Int32.max) + 1)
        wide.writeVarint(0)
        wide.writeVarint(0)
        #expect(throws: WireDecodingError.invalidValue(what: "generation", reason: "2147483648 is out of the 32-bit range")) {
            try ConsumerGroupRecord(bytes: Array(wide.readableBytesView))
        }
        // A duplicated member is refused.
        var duplicated = ByteBuffer()
        duplicated.writeInteger(UInt8(1))
        duplicated.writeLengthPrefixed(string: "t")
        duplicated.writeLengthPrefixed(string: "g")
        duplicated.writeSignedVarint(1)
        duplicated.writeVarint(2)
        duplicated.writeLengthPrefixed(string: "a")
        duplicated.writeLengthPrefixed(string: "a")
        duplicated.writeVarint(0)
        #expect(throws: WireDecodingError.self) { try ConsumerGroupRecord(bytes: Array(duplicated.readableBytesView)) }
    }
}
