/// An in-memory ``RaftStorage``: the deterministic simulation's model of a disk, and the
/// reference for what a write-ahead-log implementation must do. Not a production store.
public struct MemoryRaftStorage: RaftStorage, Sendable, Equatable {
    public private(set) var hardState: RaftHardState
    public private(set) var snapshot: RaftSnapshot
    /// Entries after the snapshot, `log[k].index == snapshot.index + 1 + k`.
    public private(set) var log: [RaftEntry]

    /// Empty storage, for a node that joins an existing cluster.
    public init() {
        self.hardState = RaftHardState()
        self.snapshot = .empty
        self.log = []
    }

    /// Storage holding exactly this state (a disk implementation restores its mirror this way).
    public init(hardState: RaftHardState, snapshot: RaftSnapshot, log: [RaftEntry]) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.log = log
    }

    /// Storage for a founding member of a new cluster: every founder starts with the same
    /// committed entry 1 (term 1) holding the initial configuration, as etcd bootstraps.
    public init(bootstrap configuration: RaftConfiguration) {
        self.hardState = RaftHardState(term: 1, vote: 0, commit: 1)
        self.snapshot = .empty
        self.log = [RaftEntry(term: 1, index: 1, kind: .confChange, data: configuration.encodedBytes())]
    }

    public var firstIndex: UInt64 { snapshot.index + 1 }
    public var lastIndex: UInt64 { snapshot.index + UInt64(log.count) }

    public func term(at index: UInt64) -> UInt64? {
        if index == snapshot.index { return snapshot.term }
        guard index > snapshot.index, index <= lastIndex else { return nil }
        return log[Int(index - firstIndex)].term
    }

    public func entries(_ range: Range<UInt64>) throws(RaftStorageError) -> [RaftEntry] {
        guard range.lowerBound >= firstIndex else { throw .compacted(index: range.lowerBound) }
        guard range.upperBound <= lastIndex + 1 else { throw .unavailable(index: range.upperBound) }
        let lo = Int(range.lowerBound - firstIndex)
        let hi = Int(range.upperBound - firstIndex)
        return Array(log[lo..<hi])
    }

    public mutating func persist(_ ready: RaftReady) throws(RaftStorageError) {
        if let snap = ready.snapshot, snap.index > snapshot.index {
            snapshot = snap
            log = []
        }
        if let first = ready.entries.first {
            guard first.index > snapshot.index, first.index <= lastIndex + 1 else {
                throw .corrupt("append at \(first.index) leaves a gap after \(lastIndex)")
            }
            log.removeSubrange(Int(first.index - firstIndex)..<log.count)
            log.append(contentsOf: ready.entries)
        }
        if let state = ready.hardState {
            hardState = state
        }
    }

    public mutating func compact(to newSnapshot: RaftSnapshot) throws(RaftStorageError) {
        guard newSnapshot.index > snapshot.index else { return }
        guard newSnapshot.index <= lastIndex else { throw .unavailable(index: newSnapshot.index) }
        log.removeFirst(Int(newSnapshot.index - snapshot.index))
        snapshot = newSnapshot
    }
}
