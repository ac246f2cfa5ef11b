import NIOCore
import Shared

/// The JournalServer protocol (service 3), served by every node running the journal role.
///
/// | id         | name                     | request                        | response                   |
/// |------------|--------------------------|--------------------------------|----------------------------|
/// | 0x00030001 | `journal.createShard`    | ``JournalCreateShardRequest``  | ``ShardDescription``       |
/// | 0x00030002 | `journal.deleteShard`    | ``JournalShardRequest``        | ``RPCEmpty``               |
/// | 0x00030003 | `journal.listShards`     | ``RPCEmpty``                   | ``JournalShardList``       |
/// | 0x00030004 | `journal.describeShard`  | ``JournalShardRequest``        | ``ShardDescription``       |
/// | 0x00030005 | `journal.append`         | ``JournalAppendRequest``       | ``JournalAppendResponse``  |
/// | 0x00030006 | `journal.read`           | ``JournalReadRequest``         | ``ShardReadResult``        |
/// | 0x00030007 | `journal.tail` (stream)  | ``JournalTailRequest``         | ``ShardTailBatch``…        |
///
/// Errors (``RPCError``): an unknown shard is `notFound` ("unknown shard 'name'"); creating a
/// shard that exists with other settings is `alreadyExists`; a bad shard name, settings,
/// records or topic filter is `invalidArgument`; an offset outside the shard is
/// `failedPrecondition` with detail = signed varints start and end offset; a shard being
/// created or deleted, or a closed store, is `unavailable`; a storage failure is `internal`.
/// A tail ends with `notFound` ("shard 'name' was deleted") when its shard is deleted.
public enum JournalAPI {
    /// The service number in the high 16 bits of every method id.
    public static let serviceID: UInt32 = 3

    /// Creates a shard (idempotent with the same settings).
    public static let createShard = RPCMethod<JournalCreateShardRequest, ShardDescription>(
        id: serviceID << 16 | 1, name: "journal.createShard")
    /// Deletes a shard and its data.
    public static let deleteShard = RPCMethod<JournalShardRequest, RPCEmpty>(id: serviceID << 16 | 2, name: "journal.deleteShard")
    /// Names of the node's shards.
    public static let listShards = RPCMethod<RPCEmpty, JournalShardList>(id: serviceID << 16 | 3, name: "journal.listShards")
    /// Offsets, state and segments of a shard.
    public static let describeShard = RPCMethod<JournalShardRequest, ShardDescription>(
        id: serviceID << 16 | 4, name: "journal.describeShard")
    /// Appends records as one batch; answers once they are durable.
    public static let append = RPCMethod<JournalAppendRequest, JournalAppendResponse>(id: serviceID << 16 | 5, name: "journal.append")
    /// Reads durable records from an offset or a timestamp.
    public static let read = RPCMethod<JournalReadRequest, ShardReadResult>(id: serviceID << 16 | 6, name: "journal.read")
    /// Replays from an offset, then streams every newly durable batch (filtered by topic).
    public static let tail = RPCStreamMethod<JournalTailRequest, ShardTailBatch>(id: serviceID << 16 | 7, name: "journal.tail")

    /// Longest record key or header key.
    public static let maxKeyBytes = 64 << 10
    /// Longest record value or header value.
    public static let maxValueBytes = 15 << 20
    /// Most headers on one record.
    public static let maxHeadersPerRecord = 4096
    /// Most records in one append request or one response.
    public static let maxRecords = 1 << 20
    /// Most topic filters in one tail request.
    public static let maxFilters = 1 << 16
    /// Most shard names in one list.
    public static let maxShards = 1 << 20
    /// Most segments in one description.
    public static let maxSegments = 1 << 20
    /// The largest `maxBytes` a read is served with (larger requests are clamped).
    public static let maxReadBytes = 8 << 20
}

/// `journal.createShard`. Wire: shard name, ``ShardSettings`` binary form.
public struct JournalCreateShardRequest: RPCMessage, Hashable {
    /// The shard name.
    public var shard: String
    /// Its settings.
    public var settings: ShardSettings
    /// Creates a request.
    public init(shard: String, settings: ShardSettings = ShardSettings()) {
        self.shard = shard
        self.settings = settings
    }
    public init(rpcBody buffer: inout ByteBuffer) throws {
        shard = try buffer.readShardName()
        settings = try ShardSettings(decoding: &buffer)
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeLengthPrefixed(string: shard)
        settings.encode(into: &buffer)
    }
}

/// `journal.deleteShard`, `journal.describeShard`. Wire: shard name.
public struct JournalShardRequest: RPCMessage, Hashable {
    /// The shard name.
    public var shard: String
    /// Creates a request.
    public init(shard: String) { self.shard = shard }
    public init(rpcBody buffer: inout ByteBuffer) throws { shard = try buffer.readShardName() }
    public func encode(into buffer: inout ByteBuffer) { buffer.writeLengthPrefixed(string: shard) }
}

/// `journal.listShards` response. Wire: varint count, names.
public struct JournalShardList: RPCMessage, Hashable {
    /// Shard names, sorted.
    public var shards: [String]
    /// Creates a list.
    public init(shards: [String]) { self.shards = shards }
    public init(rpcBody buffer: inout ByteBuffer) throws {
        let count = try buffer.readLength("shard count", limit: JournalAPI.maxShards)
        shards = []
        for _ in 0..<count { shards.append(try buffer.readShardName()) }
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeVarint(UInt64(shards.count))
        for shard in shards { buffer.writeLengthPrefixed(string: shard) }
    }
}

/// `journal.append`. Wire: shard name, varint count, records (offsets ignored), then optionally
/// one byte: the ack policy of a replicated shard (0 leader, 1 quorum, 2 all; absent: quorum).
public struct JournalAppendRequest: RPCMessage, Hashable {
    /// The shard name.
    public var shard: String
    /// The records; the shard assigns their offsets.
    public var records: [Record]
    /// How many replicas must hold the records durably before the append is acknowledged
    /// (replicated shards; `nil`: ``ReplicaAckPolicy/quorum``).
    public var ackPolicy: ReplicaAckPolicy?
    /// Creates a request.
    public init(shard: String, records: [Record], ackPolicy: ReplicaAckPolicy? = nil) {
        self.shard = shard
        self.records = records
        self.ackPolicy = ackPolicy
    }
    public init(rpcBody buffer: inout ByteBuffer) throws {
        shard = try buffer.readShardName()
        records = try buffer.readJournalRecords(limit: JournalAPI.maxRecords)
        if buffer.readableBytes > 0 {
            let raw = try buffer.readFixed("ack policy", as: UInt8.self)
            guard let policy = ReplicaAckPolicy(rawValue: raw) else { throw WireDecodingError.unknownTag(what: "ack policy", tag: UInt64(raw)) }
            ackPolicy = policy
        }
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeLengthPrefixed(string: shard)
        buffer.writeJournalRecords(records)
        if let ackPolicy { buffer.writeInteger(ackPolicy.rawValue) }
    }
}

/// `journal.append` response: where the batch landed. Wire: signed varints base and last offset.
public struct JournalAppendResponse: RPCMessage, Hashable {
    /// The first record's offset.
    public var baseOffset: Int64
    /// The last record's offset.
    public var lastOffset: Int64
    /// Creates a response.
    public init(baseOffset: Int64, lastOffset: Int64) {
        self.baseOffset = baseOffset
        self.lastOffset = lastOffset
    }
    public init(rpcBody buffer: inout ByteBuffer) throws {
        baseOffset = try buffer.readSignedVarint()
        lastOffset = try buffer.readSignedVarint()
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeSignedVarint(baseOffset)
        buffer.writeSignedVarint(lastOffset)
    }
}

/// `journal.read`. Wire: shard name, start tag (0 offset, 1 timestamp) + signed varint, varint maxBytes.
public struct JournalReadRequest: RPCMessage, Hashable {
    /// Where a read starts.
    public enum Start: Sendable, Hashable {
        /// At this offset.
        case offset(Int64)
        /// At the first record with a timestamp at or after this one (ms since the epoch);
        /// past the last record the read is empty at the end offset.
        case timestamp(Int64)
    }
    /// The shard name.
    public var shard: String
    /// Where to start.
    public var start: Start
    /// About how many bytes of stored batches to return (at least one batch).
    public var maxBytes: Int
    /// Creates a request.
    public init(shard: String, start: Start, maxBytes: Int = 1 << 20) {
        self.shard = shard
        self.start = start
        self.maxBytes = maxBytes
    }
    public init(rpcBody buffer: inout ByteBuffer) throws {
        shard = try buffer.readShardName()
        switch try buffer.readFixed("read start", as: UInt8.self) {
        case 0: start = .offset(try buffer.readSignedVarint())
        case 1: start = .timestamp(try buffer.readSignedVarint())
        case let tag: throw WireDecodingError.unknownTag(what: "read start", tag: UInt64(tag))
        }
        maxBytes = try buffer.readLength("max bytes", limit: Int(Int32.max))
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeLengthPrefixed(string: shard)
        switch start {
        case .offset(let offset):
            buffer.writeInteger(UInt8(0))
            buffer.writeSignedVarint(offset)
        case .timestamp(let timestamp):
            buffer.writeInteger(UInt8(1))
            buffer.writeSignedVarint(timestamp)
        }
        buffer.writeVarint(UInt64(max(maxBytes, 0)))
    }
}

/// `journal.tail`. Wire: shard name, optional signed varint start offset, varint filter count, filters.
public struct JournalTailRequest: RPCMessage, Hashable {
    /// The shard name.
    public var shard: String
    /// The first offset to deliver, or `nil` for only records that become durable from now on.
    public var fromOffset: Int64?
    /// MQTT topic filters the record keys must match; empty delivers every record.
    public var filters: [String]
    /// Creates a request.
    public init(shard: String, fromOffset: Int64?, filters: [String] = []) {
        self.shard = shard
        self.fromOffset = fromOffset
        self.filters = filters
    }
    public init(rpcBody buffer: inout ByteBuffer) throws {
        shard = try buffer.readShardName()
        fromOffset = try buffer.readOptionalSignedVarint("from offset")
        let count = try buffer.readLength("filter count", limit: JournalAPI.maxFilters)
        filters = []
        for _ in 0..<count {
            filters.append(try buffer.readLengthPrefixedString("topic filter", limit: TopicFilterSet.maxFilterBytes))
        }
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeLengthPrefixed(string: shard)
        buffer.writeOptionalSignedVarint(fromOffset)
        buffer.writeVarint(UInt64(filters.count))
        for filter in filters { buffer.writeLengthPrefixed(string: filter) }
    }
}

/// `journal.describeShard` / `journal.createShard` response. Wire: name, settings, signed varints
/// start and end, state byte, varint segment count + (signed varint base, varint size) each,
/// varint corrupt count + signed varint bases, then optionally the meta record (bool present +
/// length-prefixed ``ShardMetadata`` bytes; absent in bodies that end before it).
extension ShardDescription: RPCMessage {
    public init(rpcBody buffer: inout ByteBuffer) throws {
        let name = try buffer.readShardName()
        let settings = try ShardSettings(decoding: &buffer)
        let start = try buffer.readSignedVarint()
        let end = try buffer.readSignedVarint()
        let rawState = try buffer.readFixed("shard state", as: UInt8.self)
        guard let state = ShardState(rawValue: rawState) else {
            throw WireDecodingError.unknownTag(what: "shard state", tag: UInt64(rawState))
        }
        let count = try buffer.readLength("segment count", limit: JournalAPI.maxSegments)
        var segments: [Segment] = []
        for _ in 0..<count {
            let base = try buffer.readSignedVarint()
            let size = try buffer.readLength("segment size", limit: Int(Int64.max / 2))
            segments.append(Segment(baseOffset: base, sizeInBytes: size))
        }
        let corruptCount = try buffer.readLength("corrupt segment count", limit: JournalAPI.maxSegments)
        var corrupt: [Int64] = []
        for _ in 0..<corruptCount { corrupt.append(try buffer.readSignedVarint()) }
        var catalog: ShardMetadata?
        if buffer.readableBytes > 0, try buffer.readBool("shard record present") {
            var record = try buffer.readLengthPrefixedSlice("shard record", limit: 1 << 20)
            catalog = try ShardMetadata(decoding: &record)
        }
        self.init(
            name: name, settings: settings, startOffset: start, endOffset: end, state: state, segments: segments,
            corruptSegments: corrupt, catalog: catalog)
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeLengthPrefixed(string: name)
        settings.encode(into: &buffer)
        buffer.writeSignedVarint(startOffset)
        buffer.writeSignedVarint(endOffset)
        buffer.writeInteger(state.rawValue)
        buffer.writeVarint(UInt64(segments.count))
        for segment in segments {
            buffer.writeSignedVarint(segment.baseOffset)
            buffer.writeVarint(UInt64(max(segment.sizeInBytes, 0)))
        }
        buffer.writeVarint(UInt64(corruptSegments.count))
        for base in corruptSegments { buffer.writeSignedVarint(base) }
        buffer.writeBool(catalog != nil)
        if let catalog {
            var record = ByteBuffer()
            catalog.encode(into: &record)
            buffer.writeLengthPrefixed(bytes: record)
        }
    }
}

/// `journal.read` response. Wire: records, signed varints next, start and end offset.
extension ShardReadResult: RPCMessage {
    public init(rpcBody buffer: inout ByteBuffer) throws {
        let records = try buffer.readJournalRecords(limit: JournalAPI.maxRecords)
        self.init(
            records: records, nextOffset: try buffer.readSignedVarint(), startOffset: try buffer.readSignedVarint(),
            endOffset: try buffer.readSignedVarint())
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJournalRecords(records)
        buffer.writeSignedVarint(nextOffset)
        buffer.writeSignedVarint(startOffset)
        buffer.writeSignedVarint(endOffset)
    }
}

/// `journal.tail` item. Wire: records, signed varint next offset.
extension ShardTailBatch: RPCMessage {
    public init(rpcBody buffer: inout ByteBuffer) throws {
        let records = try buffer.readJournalRecords(limit: JournalAPI.maxRecords)
        self.init(records: records, nextOffset: try buffer.readSignedVarint())
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJournalRecords(records)
        buffer.writeSignedVarint(nextOffset)
    }
}

extension ByteBuffer {
    /// Reads a length-prefixed shard name (at most 200 bytes; validated by the store).
    mutating func readShardName() throws(WireDecodingError) -> String {
        try readLengthPrefixedString("shard name", limit: 200)
    }
}
