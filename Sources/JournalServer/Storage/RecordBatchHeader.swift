import NIOCore
import Shared

/// The fixed 61-byte header of a Kafka RecordBatch v2, read without decoding any record.
///
/// Index building, recovery scans and reads only need offsets, sizes, timestamps and the CRC;
/// this view gets them from the header alone.
///
/// Layout (big-endian): baseOffset i64 · batchLength i32 · partitionLeaderEpoch i32 · magic i8 ·
/// crc u32 · attributes i16 · lastOffsetDelta i32 · baseTimestamp i64 · maxTimestamp i64 ·
/// producerId i64 · producerEpoch i16 · baseSequence i32 · recordsCount i32.
public struct RecordBatchHeader: Sendable, Hashable {
    /// Bytes of the fixed header, up to and including `recordsCount`.
    public static let size = 61
    /// Bytes before and including `batchLength` (not counted by `batchLength`).
    public static let logOverhead = 12
    /// Byte index of `partitionLeaderEpoch` within a batch.
    public static let partitionLeaderEpochOffset = 12
    /// Byte index of `magic` within a batch.
    public static let magicOffset = 16
    /// Byte index of `crc` within a batch.
    public static let crcOffset = 17
    /// Byte index of `attributes`, where the CRC-covered bytes start.
    public static let attributesOffset = 21
    /// The only supported magic value.
    public static let magic: Int8 = 2
    /// The default upper bound on one batch's total size (16 MiB).
    public static let defaultMaxBatchBytes = 16 << 20

    /// The offset of the first record.
    public var baseOffset: Int64
    /// Bytes after the `batchLength` field (the batch is `batchLength + 12` bytes).
    public var batchLength: Int32
    /// The leader epoch that appended the batch.
    public var partitionLeaderEpoch: Int32
    /// The format version; always 2.
    public var magic: Int8
    /// CRC-32C of the bytes from `attributes` to the end of the batch.
    public var crc: UInt32
    /// Compression, timestamp type and transaction flags.
    public var attributes: RecordBatchAttributes
    /// The last record's offset minus `baseOffset`.
    public var lastOffsetDelta: Int32
    /// The first record's timestamp (ms); record timestamps are deltas from it.
    public var baseTimestamp: Int64
    /// The largest record timestamp (ms).
    public var maxTimestamp: Int64
    /// Idempotent-producer id, or -1.
    public var producerId: Int64
    /// Idempotent-producer epoch, or -1.
    public var producerEpoch: Int16
    /// Idempotent-producer sequence of the first record, or -1.
    public var baseSequence: Int32
    /// The number of records.
    public var recordsCount: Int32

    /// The batch's size in bytes including the log overhead.
    public var totalSize: Int { Int(batchLength) + Self.logOverhead }
    /// The offset of the batch's last record.
    public var lastOffset: Int64 { baseOffset + Int64(lastOffsetDelta) }
    /// The offset right after the batch.
    public var nextOffset: Int64 { lastOffset + 1 }

    /// Creates a header from its fields (the encoder's result; no validation).
    init(
        baseOffset: Int64, batchLength: Int32, partitionLeaderEpoch: Int32, magic: Int8, crc: UInt32,
        attributes: RecordBatchAttributes, lastOffsetDelta: Int32, baseTimestamp: Int64, maxTimestamp: Int64,
        producerId: Int64, producerEpoch: Int16, baseSequence: Int32, recordsCount: Int32
    ) {
        self.baseOffset = baseOffset
        self.batchLength = batchLength
        self.partitionLeaderEpoch = partitionLeaderEpoch
        self.magic = magic
        self.crc = crc
        self.attributes = attributes
        self.lastOffsetDelta = lastOffsetDelta
        self.baseTimestamp = baseTimestamp
        self.maxTimestamp = maxTimestamp
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.recordsCount = recordsCount
    }

    /// Parses and validates the header at `index` of `buffer` (absolute index), without reading
    /// the records and without verifying the CRC.
    ///
    /// Checks: enough bytes for the header, magic 2, `batchLength` within
    /// `[size - logOverhead, maxBatchBytes - logOverhead]`, `lastOffsetDelta >= 0`, and a
    /// `recordsCount` that the declared length could hold. The full batch need not be present.
    public init(
        parsing buffer: ByteBuffer,
        at index: Int,
        maxBatchBytes: Int = RecordBatchHeader.defaultMaxBatchBytes
    ) throws(RecordBatchError) {
        let available = buffer.writerIndex - index
        guard index >= buffer.readerIndex, available >= Self.size else {
            throw .truncated(needed: Self.size, available: max(0, available))
        }
        func get<T: FixedWidthInteger>(_ at: Int, as: T.Type = T.self) -> T {
            // Bounds were checked above: every field lies within the first `size` bytes.
            buffer.getInteger(at: index + at, as: T.self) ?? 0
        }
        self.baseOffset = get(0)
        self.batchLength = get(8)
        self.partitionLeaderEpoch = get(12)
        self.magic = get(16)
        self.crc = get(17)
        self.attributes = RecordBatchAttributes(rawValue: get(21))
        self.lastOffsetDelta = get(23)
        self.baseTimestamp = get(27)
        self.maxTimestamp = get(35)
        self.producerId = get(43)
        self.producerEpoch = get(51)
        self.baseSequence = get(53)
        self.recordsCount = get(57)

        guard self.magic == Self.magic else { throw .unsupportedMagic(self.magic) }
        guard self.batchLength >= Int32(Self.size - Self.logOverhead) else {
            throw .invalidBatchLength(self.batchLength)
        }
        guard Int(self.batchLength) + Self.logOverhead <= maxBatchBytes else {
            throw .batchTooLarge(length: Int(self.batchLength) + Self.logOverhead, limit: maxBatchBytes)
        }
        guard self.lastOffsetDelta >= 0 else { throw .invalidLastOffsetDelta(self.lastOffsetDelta) }
        // The smallest record takes 7 bytes (length, attributes, timestamp delta, offset delta,
        // key length, value length, header count: one byte each).
        let recordBytes = Int(self.batchLength) + Self.logOverhead - Self.size
        guard self.recordsCount >= 0, Int(self.recordsCount) <= recordBytes / 7 else {
            throw .invalidRecordCount(self.recordsCount)
        }
    }

    /// The CRC-32C of the batch's covered bytes (attributes to end) as found in `buffer`, or
    /// `nil` if the whole batch is not present.
    public func computeChecksum(in buffer: ByteBuffer, at index: Int) -> UInt32? {
        buffer.crc32c(at: index + Self.attributesOffset, length: self.totalSize - Self.attributesOffset)
    }

    /// Verifies that the whole batch is present at `index` and that its CRC-32C matches.
    public func verifyChecksum(in buffer: ByteBuffer, at index: Int) throws(RecordBatchError) {
        guard let computed = self.computeChecksum(in: buffer, at: index) else {
            throw .truncated(needed: self.totalSize, available: max(0, buffer.writerIndex - index))
        }
        guard computed == self.crc else {
            throw .checksumMismatch(stored: self.crc, computed: computed)
        }
    }
}
