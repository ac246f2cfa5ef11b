import Shared

/// Why bytes are not a valid record batch, or a batch cannot be encoded.
///
/// Every malformed input the batch decoder meets maps to one of these cases; the decoder never
/// traps and never allocates more than the declared (and limit-checked) batch length.
public enum RecordBatchError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer bytes are available than the batch needs.
    case truncated(needed: Int, available: Int)
    /// The magic byte is not 2 (only RecordBatch v2 is supported).
    case unsupportedMagic(Int8)
    /// `batchLength` is negative or too small to hold the fixed header.
    case invalidBatchLength(Int32)
    /// `batchLength` is larger than the configured limit.
    case batchTooLarge(length: Int, limit: Int)
    /// The stored CRC-32C does not match the bytes.
    case checksumMismatch(stored: UInt32, computed: UInt32)
    /// `recordsCount` is negative or impossible for the batch length.
    case invalidRecordCount(Int32)
    /// `lastOffsetDelta` is negative.
    case invalidLastOffsetDelta(Int32)
    /// The batch is compressed; record-level decoding of compressed batches is not supported.
    case unsupportedCompression(codec: Int)
    /// A record's fields could not be decoded.
    case malformedRecord(index: Int, reason: WireDecodingError)
    /// A record's declared length does not match the bytes its fields used.
    case recordLengthMismatch(index: Int, declared: Int, used: Int)
    /// Bytes remain after the declared number of records.
    case trailingBytes(Int)
    /// A record's offset is outside what the batch header declares (encode or decode).
    case invalidOffsetDelta(index: Int, delta: Int64)
    /// A record's timestamp delta does not fit the format.
    case invalidTimestampDelta(index: Int, delta: Int64)
    /// A batch must hold at least one record to be encoded.
    case emptyBatch

    public var description: String {
        switch self {
        case .truncated(let needed, let available): "record batch truncated: needs \(needed) bytes, \(available) available"
        case .unsupportedMagic(let magic): "unsupported record batch magic \(magic) (expected 2)"
        case .invalidBatchLength(let length): "invalid record batch length \(length)"
        case .batchTooLarge(let length, let limit): "record batch of \(length) bytes exceeds the limit of \(limit)"
        case .checksumMismatch(let stored, let computed): "record batch CRC mismatch: stored \(stored), computed \(computed)"
        case .invalidRecordCount(let count): "invalid record count \(count)"
        case .invalidLastOffsetDelta(let delta): "invalid lastOffsetDelta \(delta)"
        case .unsupportedCompression(let codec): "compressed record batches (codec \(codec)) cannot be decoded"
        case .malformedRecord(let index, let reason): "record \(index) malformed: \(reason)"
        case .recordLengthMismatch(let index, let declared, let used):
            "record \(index) declares \(declared) bytes but its fields use \(used)"
        case .trailingBytes(let count): "\(count) bytes follow the last record of the batch"
        case .invalidOffsetDelta(let index, let delta): "record \(index) has invalid offset delta \(delta)"
        case .invalidTimestampDelta(let index, let delta): "record \(index) has invalid timestamp delta \(delta)"
        case .emptyBatch: "a record batch needs at least one record"
        }
    }
}
