/// Why a ``ShardStore`` operation failed.
public enum ShardStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The name is not 1–200 characters of `[A-Za-z0-9._-]` (or is `.`/`..`).
    case invalidShardName(String)
    /// No shard of that name exists on this node.
    case shardNotFound(String)
    /// A shard of that name exists with different settings.
    case shardExists(String, existing: ShardSettings)
    /// The shard is being created or deleted right now.
    case shardBusy(String)
    /// The settings are not usable.
    case invalidSettings(String)
    /// The records could not be appended as given (empty, too large, bad batch).
    case invalidRecords(String)
    /// The offset is outside the shard's readable range `[start, end]`.
    case offsetOutOfRange(shard: String, requested: Int64, start: Int64, end: Int64)
    /// The shard's local log failed.
    case storage(shard: String, StorageError)
    /// The shard was deleted while the operation or tail ran.
    case shardDeleted(String)
    /// The store is closed.
    case closed

    public var description: String {
        switch self {
        case .invalidShardName(let name): "invalid shard name '\(name)': use 1-200 characters of A-Z a-z 0-9 . _ -"
        case .shardNotFound(let name): "unknown shard '\(name)'"
        case .shardExists(let name, let existing): "shard '\(name)' exists with different settings (\(existing))"
        case .shardBusy(let name): "shard '\(name)' is being created or deleted; retry"
        case .invalidSettings(let reason): "invalid shard settings: \(reason)"
        case .invalidRecords(let reason): "invalid records: \(reason)"
        case .offsetOutOfRange(let shard, let requested, let start, let end):
            "offset \(requested) is outside shard '\(shard)' range [\(start), \(end)]"
        case .storage(let shard, let error): "shard '\(shard)': \(error)"
        case .shardDeleted(let name): "shard '\(name)' was deleted"
        case .closed: "the shard store is closed"
        }
    }

    /// Validates a shard name: 1–200 characters of `[A-Za-z0-9._-]`, not `.` or `..`.
    public static func validate(shardName name: String) throws(ShardStoreError) {
        let bytes = name.utf8
        guard (1...200).contains(bytes.count), name != ".", name != ".." else { throw .invalidShardName(name) }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            default:
                throw .invalidShardName(name)
            }
        }
    }
}
