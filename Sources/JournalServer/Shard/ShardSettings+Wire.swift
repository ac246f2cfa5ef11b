import NIOCore
import Shared

extension ShardSettings {
    /// Appends the binary form: varint replicas, durability tag (0 every batch, 1 interval +
    /// varint ms, 2 never), varint segment bytes, then three optional varints (bool + value).
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeVarint(UInt64(replicationFactor))
        switch durability {
        case .everyBatch: buffer.writeInteger(UInt8(0))
        case .interval(let milliseconds):
            buffer.writeInteger(UInt8(1))
            buffer.writeVarint(UInt64(max(milliseconds, 0)))
        case .never: buffer.writeInteger(UInt8(2))
        }
        buffer.writeVarint(UInt64(maxSegmentBytes))
        Self.writeOptional(maxSegmentAgeMilliseconds.map { UInt64(max($0, 0)) }, into: &buffer)
        Self.writeOptional(retentionMilliseconds.map { UInt64(max($0, 0)) }, into: &buffer)
        Self.writeOptional(retentionBytes.map { UInt64(max($0, 0)) }, into: &buffer)
    }

    /// Decodes the binary form written by ``encode(into:)``.
    public init(decoding buffer: inout ByteBuffer) throws(WireDecodingError) {
        let replicas = try buffer.readLength("replication factor", limit: 16)
        let durability: DurabilityPolicy
        switch try buffer.readFixed("durability", as: UInt8.self) {
        case 0: durability = .everyBatch
        case 1: durability = .interval(milliseconds: Int64(try buffer.readLength("commit interval", limit: 60_000)))
        case 2: durability = .never
        case let tag: throw .unknownTag(what: "durability", tag: UInt64(tag))
        }
        let segmentBytes = try buffer.readLength("segment bytes", limit: Int(Int32.max))
        let age = try Self.readOptional("segment age", from: &buffer)
        let retention = try Self.readOptional("retention ms", from: &buffer)
        let retentionBytes = try Self.readOptional("retention bytes", from: &buffer)
        self.init(
            replicationFactor: replicas, durability: durability, maxSegmentBytes: segmentBytes,
            maxSegmentAgeMilliseconds: age.map { Int64($0) }, retentionMilliseconds: retention.map { Int64($0) },
            retentionBytes: retentionBytes)
    }

    private static func writeOptional(_ value: UInt64?, into buffer: inout ByteBuffer) {
        buffer.writeBool(value != nil)
        if let value { buffer.writeVarint(value) }
    }

    private static func readOptional(_ what: String, from buffer: inout ByteBuffer) throws(WireDecodingError) -> Int? {
        guard try buffer.readBool(what) else { return nil }
        return try buffer.readLength(what, limit: Int(Int64.max / 2))
    }
}
