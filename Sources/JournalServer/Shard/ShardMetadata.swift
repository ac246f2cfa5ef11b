import NIOCore
import Shared

/// A shard's record in the meta key space (`/journal/shards/<name>`): how many replicas it
/// should have and where its segments live.
///
/// Binary form (the meta value): version byte 1, varint replication factor, state byte, varint
/// segment count, then per segment: signed varint base offset, varint replica count + varint node
/// ids, varint leader, varint epoch, bool sealed; then optionally (records of replicated shards)
/// bool true + the shard's ``ShardSettings`` binary form.
public struct ShardMetadata: Sendable, Hashable {
    /// Whether the shard is in service.
    public enum State: UInt8, Sendable, Hashable, CustomStringConvertible {
        /// Serving appends and reads.
        case active = 1
        /// Being deleted.
        case deleting = 2

        public var description: String {
            switch self {
            case .active: "active"
            case .deleting: "deleting"
            }
        }
    }

    /// One segment's placement.
    public struct Segment: Sendable, Hashable {
        /// The offset of the segment's first record.
        public var baseOffset: Int64
        /// The node ids storing it.
        public var replicas: [UInt64]
        /// The node id accepting its appends.
        public var leader: UInt64
        /// The leader's epoch (fences stale leaders).
        public var epoch: UInt64
        /// Whether the segment is sealed (immutable).
        public var sealed: Bool

        /// Creates a placement.
        public init(baseOffset: Int64, replicas: [UInt64], leader: UInt64, epoch: UInt64, sealed: Bool = false) {
            self.baseOffset = baseOffset
            self.replicas = replicas
            self.leader = leader
            self.epoch = epoch
            self.sealed = sealed
        }
    }

    /// The meta key prefix of shard records.
    public static let keyPrefix = "/journal/shards/"
    /// Most segments or replicas a record may list.
    static let maxEntries = 1 << 16

    /// How many replicas each segment should have.
    public var replicationFactor: Int
    /// The shard's state.
    public var state: State
    /// Its segments, oldest first. Empty: the shard is pending placement by the controller.
    public var segments: [Segment]
    /// The settings every replica opens its segment logs with (replicated shards).
    public var settings: ShardSettings?

    /// Creates a record.
    public init(replicationFactor: Int, state: State = .active, segments: [Segment], settings: ShardSettings? = nil) {
        self.replicationFactor = replicationFactor
        self.state = state
        self.segments = segments
        self.settings = settings
    }

    /// The meta key of a shard's record.
    public static func key(shard: String) -> String { keyPrefix + shard }

    /// Appends the binary form.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(1))
        buffer.writeVarint(UInt64(max(replicationFactor, 0)))
        buffer.writeInteger(state.rawValue)
        buffer.writeVarint(UInt64(segments.count))
        for segment in segments {
            buffer.writeSignedVarint(segment.baseOffset)
            buffer.writeVarint(UInt64(segment.replicas.count))
            for replica in segment.replicas { buffer.writeVarint(replica) }
            buffer.writeVarint(segment.leader)
            buffer.writeVarint(segment.epoch)
            buffer.writeBool(segment.sealed)
        }
        if let settings {
            buffer.writeBool(true)
            settings.encode(into: &buffer)
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
        let version = try buffer.readFixed("shard record version", as: UInt8.self)
        guard version == 1 else { throw .unknownTag(what: "shard record version", tag: UInt64(version)) }
        let replicationFactor = try buffer.readLength("replication factor", limit: 16)
        let rawState = try buffer.readFixed("shard record state", as: UInt8.self)
        guard let state = State(rawValue: rawState) else { throw .unknownTag(what: "shard record state", tag: UInt64(rawState)) }
        let count = try buffer.readLength("segment count", limit: Self.maxEntries)
        var segments: [Segment] = []
        for _ in 0..<count {
            let base = try buffer.readSignedVarint()
            let replicaCount = try buffer.readLength("replica count", limit: Self.maxEntries)
            var replicas: [UInt64] = []
            for _ in 0..<replicaCount { replicas.append(try buffer.readVarint()) }
            let leader = try buffer.readVarint()
            let epoch = try buffer.readVarint()
            let sealed = try buffer.readBool("sealed")
            segments.append(Segment(baseOffset: base, replicas: replicas, leader: leader, epoch: epoch, sealed: sealed))
        }
        var settings: ShardSettings?
        if buffer.readableBytes > 0, try buffer.readBool("has settings") {
            settings = try ShardSettings(decoding: &buffer)
        }
        self.init(replicationFactor: replicationFactor, state: state, segments: segments, settings: settings)
    }

    /// Decodes a meta value.
    public init(bytes: [UInt8]) throws(WireDecodingError) {
        var buffer = ByteBuffer(bytes: bytes)
        try self.init(decoding: &buffer)
        guard buffer.readableBytes == 0 else { throw .invalidValue(what: "shard record", reason: "trailing bytes") }
    }
}
