import NIOCore

/// One message of a shard: a dense 64-bit offset, a timestamp in milliseconds since the Unix
/// epoch, an optional key, an optional value and ordered headers.
///
/// Records are stored and shipped inside a ``RecordBatch`` (Kafka's RecordBatch v2 layout); the
/// record's `offset` and `timestamp` are encoded there as deltas from the batch's base values.
public struct Record: Sendable, Hashable {
    /// The record's position in its shard.
    public var offset: Int64
    /// Milliseconds since the Unix epoch.
    public var timestamp: Int64
    /// The record key (`nil` is distinct from empty).
    public var key: ByteBuffer?
    /// The record value (`nil` is distinct from empty; a `nil` value is a tombstone in Kafka).
    public var value: ByteBuffer?
    /// Ordered headers; keys may repeat.
    public var headers: [RecordHeader]

    /// Creates a record.
    public init(
        offset: Int64 = 0,
        timestamp: Int64,
        key: ByteBuffer? = nil,
        value: ByteBuffer?,
        headers: [RecordHeader] = []
    ) {
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers
    }
}
