import NIOCore
import Shared

/// A batch of records in Kafka's RecordBatch v2 layout — the unit Tributary stores, replicates
/// and (later) hands to Kafka consumers byte for byte.
///
/// `baseOffset` and `partitionLeaderEpoch` sit before the CRC-covered region, so the log can
/// assign offsets to an encoded batch by patching its first 8 bytes without recomputing the CRC.
/// Encoding: ``encode(into:)``; decoding: ``decode(from:maxBatchBytes:)``; header-only view:
/// ``RecordBatchHeader``.
public struct RecordBatch: Sendable, Hashable {
    /// The offset of the first record (records carry absolute offsets; the encoding stores deltas).
    public var baseOffset: Int64
    /// The leader epoch that appended the batch (fencing information for replication).
    public var partitionLeaderEpoch: Int32
    /// Compression, timestamp type and transaction flags. Only uncompressed batches are encoded.
    public var attributes: RecordBatchAttributes
    /// Idempotent-producer id, or -1.
    public var producerId: Int64
    /// Idempotent-producer epoch, or -1.
    public var producerEpoch: Int16
    /// Idempotent-producer sequence of the first record, or -1.
    public var baseSequence: Int32
    /// The records, in offset order.
    public var records: [Record]

    /// Creates a batch. Record offsets must lie in `baseOffset ... baseOffset + Int32.max`.
    public init(
        baseOffset: Int64 = 0,
        partitionLeaderEpoch: Int32 = -1,
        attributes: RecordBatchAttributes = .none,
        producerId: Int64 = -1,
        producerEpoch: Int16 = -1,
        baseSequence: Int32 = -1,
        records: [Record]
    ) {
        self.baseOffset = baseOffset
        self.partitionLeaderEpoch = partitionLeaderEpoch
        self.attributes = attributes
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.records = records
    }

    /// A batch whose records get consecutive offsets starting at `baseOffset` (the usual way to
    /// build a batch for appending: the log replaces `baseOffset` with the next offset).
    public init(baseOffset: Int64 = 0, partitionLeaderEpoch: Int32 = -1, sequential records: [Record]) {
        var numbered = records
        for index in numbered.indices {
            numbered[index].offset = baseOffset + Int64(index)
        }
        self.init(baseOffset: baseOffset, partitionLeaderEpoch: partitionLeaderEpoch, records: numbered)
    }

    /// Appends the encoded batch to `buffer` and returns its header.
    ///
    /// The batch's `baseTimestamp` is the first record's timestamp and `maxTimestamp` the largest.
    @discardableResult
    public func encode(into buffer: inout ByteBuffer) throws(RecordBatchError) -> RecordBatchHeader {
        guard let first = self.records.first, let last = self.records.last else { throw .emptyBatch }
        let baseTimestamp = first.timestamp
        var maxTimestamp = Int64.min
        for (index, record) in self.records.enumerated() {
            let delta = record.offset &- self.baseOffset
            guard record.offset >= self.baseOffset, delta <= Int64(Int32.max) else {
                throw .invalidOffsetDelta(index: index, delta: delta)
            }
            let (timestampDelta, overflow) = record.timestamp.subtractingReportingOverflow(baseTimestamp)
            guard !overflow else { throw .invalidTimestampDelta(index: index, delta: timestampDelta) }
            maxTimestamp = max(maxTimestamp, record.timestamp)
        }
        let lastOffsetDelta = Int32(last.offset - self.baseOffset)

        let start = buffer.writerIndex
        buffer.writeInteger(self.baseOffset)
        buffer.writeInteger(Int32(0))  // batchLength, patched below
        buffer.writeInteger(self.partitionLeaderEpoch)
        buffer.writeInteger(RecordBatchHeader.magic)
        buffer.writeInteger(UInt32(0))  // crc, patched below
        buffer.writeInteger(self.attributes.rawValue)
        buffer.writeInteger(lastOffsetDelta)
        buffer.writeInteger(baseTimestamp)
        buffer.writeInteger(maxTimestamp)
        buffer.writeInteger(self.producerId)
        buffer.writeInteger(self.producerEpoch)
        buffer.writeInteger(self.baseSequence)
        buffer.writeInteger(Int32(truncatingIfNeeded: self.records.count))
        for record in self.records {
            Self.encode(record, baseOffset: self.baseOffset, baseTimestamp: baseTimestamp, into: &buffer)
        }
        let total = buffer.writerIndex - start
        let batchLength = Int32(truncatingIfNeeded: total - RecordBatchHeader.logOverhead)
        buffer.setInteger(batchLength, at: start + 8)
        let crcStart = start + RecordBatchHeader.attributesOffset
        let crc = buffer.withUnsafeReadableBytes { raw in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[(crcStart - buffer.readerIndex)..<(start + total - buffer.readerIndex)]))
        }
        buffer.setInteger(crc, at: start + RecordBatchHeader.crcOffset)
        return RecordBatchHeader(
            baseOffset: self.baseOffset, batchLength: batchLength, partitionLeaderEpoch: self.partitionLeaderEpoch,
            magic: RecordBatchHeader.magic, crc: crc, attributes: self.attributes, lastOffsetDelta: lastOffsetDelta,
            baseTimestamp: baseTimestamp, maxTimestamp: maxTimestamp, producerId: self.producerId,
            producerEpoch: self.producerEpoch, baseSequence: self.baseSequence,
            recordsCount: Int32(truncatingIfNeeded: self.records.count))
    }

    /// The encoded batch as a new buffer.
    public func encoded() throws(RecordBatchError) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        try self.encode(into: &buffer)
        return buffer
    }

    private static func encode(_ record: Record, baseOffset: Int64, baseTimestamp: Int64, into buffer: inout ByteBuffer) {
        let timestampDelta = record.timestamp - baseTimestamp
        let offsetDelta = record.offset - baseOffset
        var bodySize = 1 + zigZagSize(timestampDelta) + zigZagSize(offsetDelta)
        bodySize += nullableBytesSize(record.key) + nullableBytesSize(record.value)
        bodySize += zigZagSize(Int64(record.headers.count))
        for header in record.headers {
            let keyCount = header.key.utf8.count
            bodySize += zigZagSize(Int64(keyCount)) + keyCount + nullableBytesSize(header.value)
        }
        buffer.writeSignedVarint(Int64(bodySize))
        buffer.writeInteger(Int8(0))  // record attributes (unused)
        buffer.writeSignedVarint(timestampDelta)
        buffer.writeSignedVarint(offsetDelta)
        writeNullableBytes(record.key, into: &buffer)
        writeNullableBytes(record.value, into: &buffer)
        buffer.writeSignedVarint(Int64(record.headers.count))
        for header in record.headers {
            buffer.writeSignedVarint(Int64(header.key.utf8.count))
            buffer.writeString(header.key)
            writeNullableBytes(header.value, into: &buffer)
        }
    }

    private static func writeNullableBytes(_ bytes: ByteBuffer?, into buffer: inout ByteBuffer) {
        guard var bytes else {
            buffer.writeSignedVarint(-1)
            return
        }
        buffer.writeSignedVarint(Int64(bytes.readableBytes))
        buffer.writeBuffer(&bytes)
    }

    private static func nullableBytesSize(_ bytes: ByteBuffer?) -> Int {
        guard let bytes else { return zigZagSize(-1) }
        return zigZagSize(Int64(bytes.readableBytes)) + bytes.readableBytes
    }

    /// Bytes a zig-zag varint of `value` takes.
    static func zigZagSize(_ value: Int64) -> Int {
        var raw = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        var size = 1
        while raw >= 0x80 {
            raw >>= 7
            size += 1
        }
        return size
    }
}
