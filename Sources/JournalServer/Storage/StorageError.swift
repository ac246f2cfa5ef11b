/// Why a storage operation on a shard's local log failed.
public enum StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed.
    case io(operation: String, path: String, errno: Int32)
    /// The requested offset is outside `[logStartOffset, logEndOffset]`.
    case offsetOutOfRange(requested: Int64, logStart: Int64, logEnd: Int64)
    /// A segment failed its integrity checks; its data is not served until it is repaired.
    case corruptSegment(baseOffset: Int64, reason: String)
    /// The log has a corrupt segment in its active position and refuses appends.
    case logCorrupt(baseOffset: Int64)
    /// A batch handed to append was not valid.
    case invalidBatch(RecordBatchError)
    /// A batch appended with its own offsets does not continue the log.
    case nonContiguousAppend(expected: Int64, got: Int64)
    /// The log is closed.
    case closed
    /// The segment is sealed (read-only).
    case segmentSealed(baseOffset: Int64)
    /// The append was waiting for its group-commit fsync when a truncation removed it.
    case appendTruncated(baseOffset: Int64)
    /// An index file's content is not usable.
    case invalidIndex(path: String, reason: String)

    public var description: String {
        switch self {
        case .io(let operation, let path, let errno): "\(operation) failed on \(path): errno \(errno)"
        case .offsetOutOfRange(let requested, let logStart, let logEnd):
            "offset \(requested) is outside the log range [\(logStart), \(logEnd)]"
        case .corruptSegment(let baseOffset, let reason): "segment \(baseOffset) is corrupt: \(reason)"
        case .logCorrupt(let baseOffset): "active segment \(baseOffset) is corrupt; appends are refused"
        case .invalidBatch(let error): "invalid batch: \(error)"
        case .nonContiguousAppend(let expected, let got): "append at offset \(got), expected \(expected)"
        case .closed: "the log is closed"
        case .segmentSealed(let baseOffset): "segment \(baseOffset) is sealed"
        case .appendTruncated(let baseOffset): "the append at offset \(baseOffset) was truncated before it was fsynced"
        case .invalidIndex(let path, let reason): "index \(path) is invalid: \(reason)"
        }
    }
}
