import NIOCore
import Shared

/// One shard of a topic, as consumer offsets name it (Kafka's topic-partition).
public struct TopicPartition: Hashable, Comparable, Sendable {
    /// The topic name.
    public var topic: String
    /// The partition (shard) index.
    public var partition: Int32

    /// Creates a topic-partition.
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }
}

/// A committed consumer offset (Kafka's OffsetCommit partition entry).
public struct CommittedOffset: Equatable, Sendable {
    /// The next offset the group will consume.
    public var offset: Int64
    /// The leader epoch the consumer saw (-1: unknown).
    public var leaderEpoch: Int32
    /// Client metadata stored with the offset.
    public var metadata: String
    /// When it was committed, Unix ms.
    public var committedAtMillis: UInt64

    /// Creates an offset.
    public init(offset: Int64, leaderEpoch: Int32 = -1, metadata: String = "", committedAtMillis: UInt64) {
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
        self.committedAtMillis = committedAtMillis
    }
}

/// A consumer group's state in meta: the value of `/groups/<tenant>/<group>`.
///
/// The generation and its members (set by the group coordinator when a rebalance completes)
/// and the committed offsets live in ONE record, so an offset commit is checked against the
/// generation atomically: it is a compare-and-set on the record's revision.
///
/// Binary form (version 1): version byte, length-prefixed tenant and group, signed varint
/// generation, varint member count and each member id (length-prefixed, sorted), varint offset
/// count and per offset: length-prefixed topic, signed varint partition, signed varint offset,
/// signed varint leader epoch, length-prefixed metadata, varint commit time.
public struct ConsumerGroupRecord: Equatable, Sendable {
    /// The key prefix of every group.
    public static let keyPrefix = "/groups/"
    /// Most members in a generation.
    public static let maxMembers = 10_000
    /// Most committed offsets per group.
    public static let maxOffsets = 100_000
    /// Longest offset metadata (Kafka's default `offset.metadata.max.bytes`).
    public static let maxMetadataBytes = 4096

    /// The owning tenant.
    public var tenant: String
    /// The group id.
    public var group: String
    /// The current generation (0: no generation has started; commits need generation -1).
    public var generation: Int32
    /// The members of the current generation.
    public var members: Set<String>
    /// The committed offsets.
    public var offsets: [TopicPartition: CommittedOffset]

    /// Creates a record.
    public init(tenant: String, group: String, generation: Int32 = 0, members: Set<String> = [], offsets: [TopicPartition: CommittedOffset] = [:]) {
        self.tenant = tenant
        self.group = group
        self.generation = generation
        self.members = members
        self.offsets = offsets
    }

    /// The key of group `group` of `tenant`.
    public static func key(tenant: String, group: String) -> String { "\(keyPrefix)\(tenant)/\(group)" }

    /// This group's key.
    public var key: String { Self.key(tenant: tenant, group: group) }

    /// Appends the binary form.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(1))
        buffer.writeLengthPrefixed(string: tenant)
        buffer.writeLengthPrefixed(string: group)
        buffer.writeSignedVarint(Int64(generation))
        buffer.writeVarint(UInt64(members.count))
        for member in members.sorted() { buffer.writeLengthPrefixed(string: member) }
        buffer.writeVarint(UInt64(offsets.count))
        for (partition, offset) in offsets.sorted(by: { $0.key < $1.key }) {
            buffer.writeLengthPrefixed(string: partition.topic)
            buffer.writeSignedVarint(Int64(partition.partition))
            buffer.writeSignedVarint(offset.offset)
            buffer.writeSignedVarint(Int64(offset.leaderEpoch))
            buffer.writeLengthPrefixed(string: offset.metadata)
            buffer.writeVarint(offset.committedAtMillis)
        }
    }

    /// The binary form as bytes (a meta value).
    public var encodedBytes: [UInt8] {
        var buffer = ByteBuffer()
        encode(into: &buffer)
        return Array(buffer.readableBytesView)
    }

    /// Decodes the binary form.
    public init(decoding buffer: inout ByteBuffer) throws(WireDecodingError) {
        let version = try buffer.readFixed("group record version", as: UInt8.self)
        guard version == 1 else { throw .unknownTag(what: "group record version", tag: UInt64(version)) }
        tenant = try buffer.readLengthPrefixedString("tenant", limit: MetaRecordNames.maxTenantBytes)
        group = try buffer.readLengthPrefixedString("group", limit: MetaRecordNames.maxGroupBytes)
        generation = try Self.int32(buffer.readSignedVarint(), "generation")
        let memberCount = try buffer.readLength("member count", limit: Self.maxMembers)
        members = []
        for _ in 0..<memberCount {
            members.insert(try buffer.readLengthPrefixedString("member id", limit: MetaRecordNames.maxGroupBytes))
        }
        guard members.count == memberCount else { throw .invalidValue(what: "group members", reason: "duplicate member id") }
        let offsetCount = try buffer.readLength("offset count", limit: Self.maxOffsets)
        offsets = [:]
        for _ in 0..<offsetCount {
            let topic = try buffer.readLengthPrefixedString("topic", limit: MetaRecordNames.maxTopicBytes)
            let partition = try Self.int32(buffer.readSignedVarint(), "partition")
            let offset = try buffer.readSignedVarint()
            let epoch = try Self.int32(buffer.readSignedVarint(), "leader epoch")
            let metadata = try buffer.readLengthPrefixedString("offset metadata", limit: Self.maxMetadataBytes)
            let committed = try buffer.readVarint()
            let key = TopicPartition(topic: topic, partition: partition)
            guard offsets[key] == nil else { throw .invalidValue(what: "group offsets", reason: "duplicate \(topic)/\(partition)") }
            offsets[key] = CommittedOffset(offset: offset, leaderEpoch: epoch, metadata: metadata, committedAtMillis: committed)
        }
    }

    /// Decodes a meta value; trailing bytes are an error.
    public init(bytes: [UInt8]) throws(WireDecodingError) {
        var buffer = ByteBuffer(bytes: bytes)
        try self.init(decoding: &buffer)
        guard buffer.readableBytes == 0 else { throw .invalidValue(what: "group record", reason: "trailing bytes") }
    }

    private static func int32(_ value: Int64, _ what: String) throws(WireDecodingError) -> Int32 {
        guard let narrowed = Int32(exactly: value) else { throw .invalidValue(what: what, reason: "\(value) is out of the 32-bit range") }
        return narrowed
    }
}
