import NIOCore
import PropertyBased
import Testing

@testable import JournalServer
@testable import Shared

@Suite("JournalAPI bodies: round trips and malformed input")
struct JournalAPIWireTests {
    static let records = [
        Record(offset: 7, timestamp: 1_700_000_000_000, key: ByteBuffer(string: "a/b"), value: ByteBuffer(string: "v"),
               headers: [RecordHeader(key: "qos", value: ByteBuffer(bytes: [1])), RecordHeader(key: "nil", value: nil)]),
        Record(offset: -1, timestamp: -5, key: nil, value: nil),
        Record(offset: 9, timestamp: 0, key: ByteBuffer(), value: ByteBuffer()),
    ]

    /// `optionalTail`: bytes at the end that older senders leave out (a prefix without them decodes).
    func roundTrip<M: RPCMessage & Equatable>(_ message: M, optionalTail: Int? = nil) throws {
        var buffer = ByteBuffer()
        message.encode(into: &buffer)
        var copy = buffer
        let decoded = try M(rpcBody: &copy)
        #expect(decoded == message)
        #expect(copy.readableBytes == 0)
        // Every strict prefix is refused with an error, never a trap.
        for cut in 0..<buffer.readableBytes where cut != optionalTail.map({ buffer.readableBytes - $0 }) {
            var prefix = buffer.getSlice(at: buffer.readerIndex, length: cut) ?? ByteBuffer()
            if let partial = try? M(rpcBody: &prefix), prefix.readableBytes == 0 {
                // A prefix may only decode when what was cut is optional trailing data — never here.
                Issue.record("prefix of \(cut) bytes decoded as \(partial)")
            }
        }
    }

    @Test("every request and response round-trips; truncations are refused")
    func roundTrips() throws {
        let settings = ShardSettings(
            replicationFactor: 3, durability: .interval(milliseconds: 7), maxSegmentBytes: 1 << 20, maxSegmentAgeMilliseconds: nil,
            retentionMilliseconds: 60_000, retentionBytes: 1 << 30)
        try roundTrip(JournalCreateShardRequest(shard: "orders-1", settings: settings))
        try roundTrip(JournalCreateShardRequest(shard: "x", settings: ShardSettings(durability: .never)))
        try roundTrip(JournalCreateShardRequest(shard: "y", settings: ShardSettings(durability: .everyBatch)))
        try roundTrip(JournalShardRequest(shard: "orders"))
        try roundTrip(JournalShardList(shards: ["a", "b.c", "d_e-f"]))
        try roundTrip(JournalAppendRequest(shard: "s", records: Self.records))
        for policy in ReplicaAckPolicy.allCases {
            try roundTrip(JournalAppendRequest(shard: "s", records: Self.records, ackPolicy: policy), optionalTail: 1)
        }
        var badPolicy = ByteBuffer()
        JournalAppendRequest(shard: "s", records: Self.records).encode(into: &badPolicy)
        badPolicy.writeInteger(UInt8(9))
        #expect(throws: WireDecodingError.self) { _ = try JournalAppendRequest(rpcBody: &badPolicy) }
        try roundTrip(JournalAppendResponse(baseOffset: 10, lastOffset: 12))
        try roundTrip(JournalReadRequest(shard: "s", start: .offset(42), maxBytes: 4096))
        try roundTrip(JournalReadRequest(shard: "s", start: .timestamp(-3), maxBytes: 0))
        try roundTrip(JournalTailRequest(shard: "s", fromOffset: nil, filters: ["a/+", "#"]))
        try roundTrip(JournalTailRequest(shard: "s", fromOffset: 0))
        try roundTrip(ShardReadResult(records: Self.records, nextOffset: 10, startOffset: 0, endOffset: 11))
        try roundTrip(ShardTailBatch(records: Self.records, nextOffset: 10))
        try roundTrip(
            ShardDescription(
                name: "s", settings: settings, startOffset: 5, endOffset: 99, state: .corrupt,
                segments: [.init(baseOffset: 5, sizeInBytes: 100), .init(baseOffset: 50, sizeInBytes: 0)], corruptSegments: [50]),
            optionalTail: 1)
        let record = ShardMetadata(
            replicationFactor: 3, state: .deleting,
            segments: [.init(baseOffset: 0, replicas: [1, 2, 3], leader: 2, epoch: 7, sealed: true), .init(baseOffset: 90, replicas: [4], leader: 4, epoch: 8)])
        var withRecord = ShardDescription(
            name: "m", settings: ShardSettings(), startOffset: 0, endOffset: 1, state: .active, segments: [], catalog: record)
        var recordBytes = ByteBuffer()
        record.encode(into: &recordBytes)
        try roundTrip(withRecord, optionalTail: 1 + 1 + recordBytes.readableBytes)
        withRecord.catalog = nil
        try roundTrip(withRecord, optionalTail: 1)
        #expect(try ShardMetadata(bytes: record.encodedBytes) == record)
        #expect(throws: WireDecodingError.self) { try ShardMetadata(bytes: record.encodedBytes + [0]) }
        #expect(throws: WireDecodingError.self) { try ShardMetadata(bytes: [2] + record.encodedBytes.dropFirst()) }
    }

    @Test("declared lengths beyond the limits are refused before buffering")
    func limits() {
        var name = ByteBuffer()
        name.writeVarint(201)
        name.writeBytes(Array(repeating: UInt8(ascii: "a"), count: 201))
        #expect(throws: WireDecodingError.self) { try JournalShardRequest(rpcBody: &name) }

        var records = ByteBuffer()
        records.writeLengthPrefixed(string: "s")
        records.writeVarint(UInt64(JournalAPI.maxRecords + 1))
        #expect(throws: WireDecodingError.self) { try JournalAppendRequest(rpcBody: &records) }

        var key = ByteBuffer()
        key.writeLengthPrefixed(string: "s")
        key.writeVarint(1)
        key.writeSignedVarint(0)
        key.writeSignedVarint(0)
        key.writeBool(true)
        key.writeVarint(UInt64(JournalAPI.maxKeyBytes + 1))
        #expect(throws: WireDecodingError.self) { try JournalAppendRequest(rpcBody: &key) }

        var filters = ByteBuffer()
        filters.writeLengthPrefixed(string: "s")
        filters.writeBool(false)
        filters.writeVarint(UInt64(JournalAPI.maxFilters + 1))
        #expect(throws: WireDecodingError.self) { try JournalTailRequest(rpcBody: &filters) }

        var start = ByteBuffer()
        start.writeLengthPrefixed(string: "s")
        start.writeInteger(UInt8(9))
        #expect(throws: WireDecodingError.unknownTag(what: "read start", tag: 9)) { try JournalReadRequest(rpcBody: &start) }

        var durability = ByteBuffer()
        durability.writeLengthPrefixed(string: "s")
        durability.writeVarint(1)
        durability.writeInteger(UInt8(7))
        #expect(throws: WireDecodingError.unknownTag(what: "durability", tag: 7)) { try JournalCreateShardRequest(rpcBody: &durability) }
    }

    @Test("random bytes never trap any decoder")
    func randomBytes() async {
        await propertyCheck(count: 500, input: Gen.uint8().array(of: 0...80)) { bytes in
            let body = ByteBuffer(bytes: bytes)
            var b1 = body, b2 = body, b3 = body, b4 = body, b5 = body, b6 = body, b7 = body
            _ = try? JournalCreateShardRequest(rpcBody: &b1)
            _ = try? JournalAppendRequest(rpcBody: &b2)
            _ = try? JournalReadRequest(rpcBody: &b3)
            _ = try? JournalTailRequest(rpcBody: &b4)
            _ = try? ShardDescription(rpcBody: &b5)
            _ = try? ShardReadResult(rpcBody: &b6)
            _ = try? ShardTailBatch(rpcBody: &b7)
        }
    }
}
