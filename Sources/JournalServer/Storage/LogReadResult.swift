import NIOCore

/// Whole record batches read from a shard's local log.
public struct LogReadResult: Sendable {
    /// The batches back to back, exactly as stored (Kafka RecordBatch v2), CRCs verified. The
    /// first batch may start before the requested offset (it is the batch containing it).
    public var bytes: ByteBuffer
    /// The offset to read from next.
    public var nextOffset: Int64
    /// The log start offset when the read ran.
    public var logStartOffset: Int64
    /// The log end offset when the read ran.
    public var logEndOffset: Int64

    /// Creates a result.
    public init(bytes: ByteBuffer, nextOffset: Int64, logStartOffset: Int64, logEndOffset: Int64) {
        self.bytes = bytes
        self.nextOffset = nextOffset
        self.logStartOffset = logStartOffset
        self.logEndOffset = logEndOffset
    }

    /// Decodes the batches.
    public func batches(maxBatchBytes: Int = RecordBatchHeader.defaultMaxBatchBytes) throws(RecordBatchError) -> [RecordBatch] {
        try RecordBatch.decodeAll(bytes, maxBatchBytes: maxBatchBytes)
    }
}
