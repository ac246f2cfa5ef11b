import NIOCore
import Shared

/// One key of the metadata key space with its MVCC bookkeeping (as etcd keeps it): the revision
/// that created it, the revision that last modified it, how many times it was written since it
/// was created, and the lease that owns it (0 = none; the key is deleted when the lease ends).
public struct MetaKeyValue: Equatable, Sendable {
    /// The key: a `/`-separated path such as `nodes/3` or `mqtt/sessions/default/client-1`.
    public var key: String
    /// The value bytes (typed records encode themselves into it).
    public var value: [UInt8]
    /// Revision of the write that created the key.
    public var createRevision: UInt64
    /// Revision of the latest write to the key.
    public var modRevision: UInt64
    /// Number of writes since creation (1 after the first put).
    public var version: UInt64
    /// Owning lease id, 0 for none.
    public var lease: UInt64

    /// Creates a key-value record.
    public init(key: String, value: [UInt8], createRevision: UInt64, modRevision: UInt64, version: UInt64, lease: UInt64) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.lease = lease
    }

    /// Appends the binary encoding.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeLengthPrefixed(string: key)
        buffer.writeLengthPrefixed(bytes: value)
        buffer.writeVarint(createRevision)
        buffer.writeVarint(modRevision)
        buffer.writeVarint(version)
        buffer.writeVarint(lease)
    }

    /// Decodes the binary encoding.
    public init(from buffer: inout ByteBuffer) throws(WireDecodingError) {
        self.key = try buffer.readLengthPrefixedString("key", limit: MetaLimits.maxKeyBytes)
        self.value = Array(try buffer.readLengthPrefixedSlice("value", limit: MetaLimits.maxValueBytes).readableBytesView)
        self.createRevision = try buffer.readVarint()
        self.modRevision = try buffer.readVarint()
        self.version = try buffer.readVarint()
        self.lease = try buffer.readVarint()
    }
}

/// Size limits of the metadata key space, enforced on every write.
public enum MetaLimits {
    /// Longest key, in UTF-8 bytes.
    public static let maxKeyBytes = 4096
    /// Largest value.
    public static let maxValueBytes = 1 << 20
}
