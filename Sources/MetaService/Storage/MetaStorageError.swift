/// Why the Raft storage (write-ahead log or snapshot files) refused to go on. A node that gets
/// one of these at start stops with ``description`` as its message: it never silently drops
/// committed entries.
public enum MetaStorageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed (disk full, permissions, I/O error).
    case io(path: String, operation: String, errno: Int32, message: String)
    /// A file is damaged somewhere other than a torn tail.
    case corrupt(path: String, offset: Int, reason: String)
    /// An earlier write failed half-way; the log must be reopened (recovery repairs the tail).
    case failed(reason: String)

    public var description: String {
        switch self {
        case .io(let path, let operation, let errno, let message):
            "\(operation) \(path) failed: \(message) (errno \(errno))"
        case .corrupt(let path, let offset, let reason):
            "\(path) is corrupt at byte \(offset): \(reason); refusing to start (restore this node's data from a peer)"
        case .failed(let reason):
            "the write-ahead log is unusable after a failed write (\(reason)); restart the node to recover"
        }
    }
}
