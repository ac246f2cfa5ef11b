import NIOCore

/// One encoded record batch (Kafka RecordBatch v2) with its offsets assigned by the segment's
/// leader: the unit the leader appends locally, pushes to followers, and followers append with
/// `SegmentLog.appendReplicated(encoded:)`.
public struct ReplicatedBatch: Sendable, Hashable {
    /// The offset of the batch's first record.
    public let baseOffset: Int64
    /// The offset of the batch's last record.
    public let lastOffset: Int64
    /// The leader epoch stamped into the batch.
    public let epoch: Int32
    /// The encoded batch, exactly as stored.
    public let bytes: ByteBuffer

    /// The offset right after the batch.
    public var endOffset: Int64 { lastOffset + 1 }
    /// The encoded size in bytes.
    public var sizeInBytes: Int { bytes.readableBytes }

    /// Wraps encoded bytes after checking that they are exactly one valid batch (header,
    /// length limit and CRC-32C), taking offsets and epoch from its header.
    public init(validating bytes: ByteBuffer, maxBatchBytes: Int = RecordBatchHeader.defaultMaxBatchBytes) throws(RecordBatchError) {
        let header = try RecordBatchHeader(parsing: bytes, at: bytes.readerIndex, maxBatchBytes: maxBatchBytes)
        try header.verifyChecksum(in: bytes, at: bytes.readerIndex)
        guard bytes.readableBytes == header.totalSize else {
            throw .trailingBytes(bytes.readableBytes - header.totalSize)
        }
        self.baseOffset = header.baseOffset
        self.lastOffset = header.lastOffset
        self.epoch = header.partitionLeaderEpoch
        self.bytes = bytes
    }

    /// Encodes `records` as a batch whose records get consecutive offsets from `baseOffset`,
    /// stamped with `epoch`.
    public init(records: [Record], baseOffset: Int64, epoch: Int32) throws(RecordBatchError) {
        let batch = RecordBatch(baseOffset: baseOffset, partitionLeaderEpoch: epoch, sequential: records)
        let bytes = try batch.encoded()
        self.baseOffset = baseOffset
        self.lastOffset = baseOffset + Int64(records.count) - 1
        self.epoch = epoch
        self.bytes = bytes
    }

    /// Decodes the records (tests, readers).
    public func records() throws(RecordBatchError) -> [Record] {
        var copy = bytes
        return try RecordBatch.decode(from: &copy).records
    }
}
