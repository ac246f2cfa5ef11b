/// The core's view of the log: the latest snapshot, the entries after it (durable ones and the
/// unstable tail not yet handed to / persisted by the driver), the commit and applied indices,
/// and the membership history of the entries held.
///
/// The whole uncompacted log is held in memory (as etcd's `MemoryStorage` does); the driver
/// bounds it by compacting after snapshots. It is loaded once from ``RaftStorage``.
public struct RaftLog: Sendable, Equatable {
    /// A membership change held in the log.
    struct ConfigPoint: Sendable, Equatable {
        var index: UInt64
        var configuration: RaftConfiguration
    }

    /// The latest snapshot (``RaftSnapshot/empty`` if none).
    public internal(set) var snapshot: RaftSnapshot
    /// Entries after the snapshot: `entries[k].index == snapshot.index + 1 + k`.
    public internal(set) var entries: [RaftEntry]
    /// Entries up to this index are durable.
    public internal(set) var stableIndex: UInt64
    /// The snapshot was received from a leader and is not yet durable.
    public internal(set) var snapshotPending: Bool
    /// The highest index known to be committed.
    public internal(set) var committed: UInt64
    /// The highest index the application has applied (as acknowledged by `advance`).
    public internal(set) var applied: UInt64
    /// Configuration entries among ``entries``, in index order.
    var configPoints: [ConfigPoint]

    /// Loads the durable state from `storage`.
    public init(storage: some RaftStorage) throws(RaftStorageError) {
        self.snapshot = storage.snapshot
        self.entries = try storage.entries(storage.firstIndex..<(storage.lastIndex + 1))
        self.stableIndex = storage.lastIndex
        self.snapshotPending = false
        self.applied = snapshot.index
        self.configPoints = []
        let last = snapshot.index + UInt64(entries.count)
        self.committed = min(max(storage.hardState.commit, snapshot.index), last)
        for (offset, entry) in entries.enumerated() where entry.index != snapshot.index + 1 + UInt64(offset) {
            throw .corrupt("entry \(entry.index) at position \(offset) after snapshot \(snapshot.index)")
        }
        recordConfigurations(entries)
    }

    /// The first index held as an entry.
    public var firstIndex: UInt64 { snapshot.index + 1 }
    /// The last index (the snapshot index when no entries are held).
    public var lastIndex: UInt64 { snapshot.index + UInt64(entries.count) }
    /// The term of the last entry.
    public var lastTerm: UInt64 { entries.last?.term ?? snapshot.term }

    /// The term at `index`, or `nil` when compacted or beyond the end.
    public func term(at index: UInt64) -> UInt64? {
        if index == snapshot.index { return snapshot.term }
        guard index > snapshot.index, index <= lastIndex else { return nil }
        return entries[Int(index - firstIndex)].term
    }

    /// The entry at `index`, if held.
    public func entry(at index: UInt64) -> RaftEntry? {
        guard index >= firstIndex, index <= lastIndex else { return nil }
        return entries[Int(index - firstIndex)]
    }

    /// Whether the entry at `index` has term `term`.
    func matchTerm(_ index: UInt64, _ term: UInt64) -> Bool {
        self.term(at: index) == term
    }

    /// Whether a log ending at (`index`, `term`) is at least as up to date as this one (§5.4.1).
    func isUpToDate(lastIndex index: UInt64, lastTerm term: UInt64) -> Bool {
        term > lastTerm || (term == lastTerm && index >= lastIndex)
    }

    /// Entries from `lo` up to `maxBytes` (at least one if any), or `nil` if `lo` is compacted.
    func entries(from lo: UInt64, maxBytes: Int) -> [RaftEntry]? {
        guard lo >= firstIndex else { return nil }
        guard lo <= lastIndex else { return [] }
        var result: [RaftEntry] = []
        var bytes = 0
        for position in Int(lo - firstIndex)..<entries.count {
            let entry = entries[position]
            if !result.isEmpty && bytes + entry.approximateSize > maxBytes { break }
            bytes += entry.approximateSize
            result.append(entry)
        }
        return result
    }

    /// Entries in `lo...hi` that are held (compacted ones are skipped).
    func slice(_ lo: UInt64, _ hi: UInt64) -> [RaftEntry] {
        let from = max(lo, firstIndex)
        let to = min(hi, lastIndex)
        guard from <= to else { return [] }
        return Array(entries[Int(from - firstIndex)...Int(to - firstIndex)])
    }

    /// The entries not yet durable.
    var unstableEntries: [RaftEntry] { slice(stableIndex + 1, lastIndex) }

    /// The largest index at most `index` whose term is at most `term` (never below the snapshot).
    func findConflictByTerm(_ index: UInt64, _ term: UInt64) -> UInt64 {
        var candidate = min(index, lastIndex)
        while candidate > snapshot.index, let t = self.term(at: candidate), t > term {
            candidate -= 1
        }
        return candidate
    }

    /// The current membership (the newest configuration entry held, or the snapshot's).
    public var configuration: RaftConfiguration { configPoints.last?.configuration ?? snapshot.configuration }

    /// The index of the newest configuration change held (the snapshot index if none).
    var lastConfigIndex: UInt64 { configPoints.last?.index ?? snapshot.index }

    /// The membership as of `index`.
    func configuration(at index: UInt64) -> RaftConfiguration {
        configPoints.last(where: { $0.index <= index })?.configuration ?? snapshot.configuration
    }

    /// Appends `new` (consecutive entries starting within `firstIndex...lastIndex + 1`),
    /// discarding every held entry at or after `new.first.index`.
    mutating func truncateAndAppend(_ new: [RaftEntry]) {
        guard let first = new.first, first.index > snapshot.index, first.index <= lastIndex + 1 else { return }
        entries.removeSubrange(Int(first.index - firstIndex)..<entries.count)
        configPoints.removeAll { $0.index >= first.index }
        stableIndex = min(stableIndex, first.index - 1)
        entries.append(contentsOf: new)
        recordConfigurations(new)
    }

    private mutating func recordConfigurations(_ new: [RaftEntry]) {
        for entry in new where entry.kind == .confChange {
            if let configuration = try? RaftConfiguration.decode(bytes: entry.data) {
                configPoints.append(ConfigPoint(index: entry.index, configuration: configuration))
            }
        }
    }

    /// Follower append (§5.3): if the entry at `prevIndex` has `prevTerm`, merges `new` and
    /// returns the last index now known to match the leader; `nil` on mismatch. Entries that are
    /// already present are kept; the first conflicting entry and everything after it is replaced.
    /// Never truncates committed entries (a leader asking for that is ignored: returns `nil`).
    mutating func maybeAppend(prevIndex: UInt64, prevTerm: UInt64, _ new: [RaftEntry]) -> UInt64? {
        guard matchTerm(prevIndex, prevTerm) else { return nil }
        let lastNew = prevIndex + UInt64(new.count)
        var conflict: Int?
        for (offset, entry) in new.enumerated() {
            if entry.index <= snapshot.index { continue }
            if term(at: entry.index) != entry.term {
                conflict = offset
                break
            }
        }
        if let conflict {
            guard new[conflict].index > committed else { return nil }
            truncateAndAppend(Array(new[conflict...]))
        }
        return lastNew
    }

    /// Raises the commit index to `index` if it is higher and held.
    mutating func commit(to index: UInt64) {
        if index > committed, index <= lastIndex {
            committed = index
        }
    }

    /// Replaces the whole log by a snapshot from the leader (not yet durable).
    mutating func restore(_ newSnapshot: RaftSnapshot) {
        snapshot = newSnapshot
        entries = []
        configPoints = []
        committed = newSnapshot.index
        stableIndex = newSnapshot.index
        snapshotPending = true
    }

    /// Marks entries up to (`index`, `term`) durable, unless they were replaced meanwhile.
    mutating func stable(to index: UInt64, term: UInt64) {
        if index > stableIndex, matchTerm(index, term) {
            stableIndex = index
        }
    }

    /// Drops the entries covered by `newSnapshot.index` and records the snapshot (taken by the
    /// application at an applied, durable index).
    mutating func compact(to index: UInt64, data: [UInt8]) throws(RaftError) -> RaftSnapshot {
        guard !snapshotPending, index > snapshot.index, index <= applied, index <= stableIndex,
              let term = term(at: index)
        else { throw .compactionOutOfRange(index: index) }
        let newSnapshot = RaftSnapshot(index: index, term: term, configuration: configuration(at: index), data: data)
        entries.removeFirst(Int(index - snapshot.index))
        configPoints.removeAll { $0.index <= index }
        snapshot = newSnapshot
        return newSnapshot
    }
}
