/// A Raft node identifier. `0` is reserved for "none" (no vote, no known leader).
public typealias RaftNodeID = UInt64

/// One entry of the replicated log.
///
/// Indices are dense and start at 1; index 0 with term 0 is the empty log's sentinel.
public struct RaftEntry: Sendable, Equatable, Hashable {
    /// What an entry carries.
    public enum Kind: UInt8, Sendable, Equatable, Hashable {
        /// Application data, handed to the state machine when committed.
        case normal = 0
        /// A membership change: `data` is an encoded ``RaftConfiguration`` (the full new
        /// configuration), which takes effect on every node as soon as the entry is appended.
        case confChange = 1
        /// The empty entry a new leader appends to commit entries of earlier terms.
        case noop = 2
    }

    /// The term of the leader that created the entry.
    public var term: UInt64
    /// The entry's position in the log.
    public var index: UInt64
    /// The entry's kind.
    public var kind: Kind
    /// The payload (application bytes, or an encoded configuration).
    public var data: [UInt8]

    /// Creates an entry.
    public init(term: UInt64, index: UInt64, kind: Kind = .normal, data: [UInt8] = []) {
        self.term = term
        self.index = index
        self.kind = kind
        self.data = data
    }

    /// An approximation of the entry's encoded size, used for per-message byte limits.
    public var approximateSize: Int { data.count + 24 }
}
