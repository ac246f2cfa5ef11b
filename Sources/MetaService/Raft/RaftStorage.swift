/// Why stable storage could not serve or accept a request.
public enum RaftStorageError: Error, Sendable, Equatable {
    /// The requested entries are below the first index (compacted into the snapshot).
    case compacted(index: UInt64)
    /// The requested entries are beyond the last index.
    case unavailable(index: UInt64)
    /// Stored data failed validation (for example a gap in indices); carries a description.
    case corrupt(String)
}

/// Stable storage of one Raft node: the durable hard state, snapshot and log.
///
/// A ``RaftNode`` reads it once, when it is created (``RaftLog/init(storage:)``); afterwards the
/// driver writes every ``RaftReady`` into it (``persist(_:)``) and compacts it after taking a
/// snapshot (``compact(to:)``). A write-ahead-log implementation must make `persist` durable
/// (fsync) before returning — except that a ready whose only change is a higher commit index
/// may skip the fsync; the in-memory implementation is the deterministic simulation's model of
/// a disk.
///
/// Index invariants: `firstIndex == snapshot.index + 1`; entries `firstIndex...lastIndex` are
/// all present; `lastIndex == snapshot.index` when the log holds no entries.
public protocol RaftStorage {
    /// The last durable hard state.
    var hardState: RaftHardState { get }
    /// The latest durable snapshot (``RaftSnapshot/empty`` before the first compaction).
    var snapshot: RaftSnapshot { get }
    /// The index of the first entry held (snapshot index + 1).
    var firstIndex: UInt64 { get }
    /// The index of the last entry held (the snapshot index when there are none).
    var lastIndex: UInt64 { get }
    /// The term of the entry at `index`, the snapshot's term at the snapshot index, or `nil`.
    func term(at index: UInt64) -> UInt64?
    /// The entries with indices in `range`, which must lie within `firstIndex...lastIndex`.
    func entries(_ range: Range<UInt64>) throws(RaftStorageError) -> [RaftEntry]
    /// Makes a ready's snapshot, entries and hard state durable, in that order and atomically
    /// with respect to crashes at ready granularity.
    mutating func persist(_ ready: RaftReady) throws(RaftStorageError)
    /// Replaces entries up to `snapshot.index` by `snapshot` (taken by the application at an
    /// applied index).
    mutating func compact(to snapshot: RaftSnapshot) throws(RaftStorageError)
}
