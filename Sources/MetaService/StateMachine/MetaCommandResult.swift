/// What applying a ``MetaCommand`` produced, returned to the proposer.
public enum MetaCommandResult: Equatable, Sendable {
    /// The write happened at `revision`; `previous` is the replaced record, if any.
    case written(revision: UInt64, previous: MetaKeyValue?)
    /// Keys were deleted at `revision` (count may be 0, in which case the revision did not move).
    case deleted(revision: UInt64, count: Int)
    /// A compare-and-set did not match; `current` is what the key holds now.
    case compareFailed(revision: UInt64, current: MetaKeyValue?)
    /// A lease was granted or revoked at `revision`.
    case lease(revision: UInt64)
    /// The command was refused without changing anything.
    case rejected(MetaError)
}

/// Why the metadata service refused a request.
public enum MetaError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A key was empty or longer than ``MetaLimits/maxKeyBytes``.
    case invalidKey(String)
    /// A value was larger than ``MetaLimits/maxValueBytes``.
    case valueTooLarge(Int)
    /// The lease does not exist (never granted, or already ended).
    case leaseNotFound(UInt64)
    /// The lease id is already granted.
    case leaseExists(UInt64)
    /// A watch asked for history that has been compacted; re-read the keys, then watch from
    /// `oldestRevision`.
    case compacted(oldestRevision: UInt64)

    public var description: String {
        switch self {
        case .invalidKey(let key): "invalid key '\(key.prefix(64))': keys are 1…\(MetaLimits.maxKeyBytes) UTF-8 bytes"
        case .valueTooLarge(let size): "value of \(size) bytes exceeds \(MetaLimits.maxValueBytes)"
        case .leaseNotFound(let id): "lease \(id) does not exist"
        case .leaseExists(let id): "lease \(id) already exists"
        case .compacted(let oldest): "the requested revision is compacted; the oldest retained is \(oldest)"
        }
    }
}
