import DequeModule
import NIOCore
import Shared

/// The metadata state machine that Raft replicates: a revisioned key-value space (etcd's model)
/// with leases and a bounded change history for watches.
///
/// Every write is a ``MetaCommand`` applied in log order; each command that changes something
/// advances ``revision`` by one. Typed metadata (nodes, shards, segments, sessions, users, ACLs…)
/// lives under documented key prefixes, so one watch mechanism serves all of it.
///
/// A value type with no IO: replicas that apply the same commands hold equal stores.
public struct MetaStore: Sendable {
    /// The revision of the latest change (0 for an empty store).
    public internal(set) var revision: UInt64 = 0
    var keys: [String: MetaKeyValue] = [:]
    var leases: [UInt64: Lease] = [:]
    var history: Deque<WatchEvent> = []
    /// The oldest revision still answerable from the history.
    public internal(set) var oldestRetainedRevision: UInt64 = 1
    /// How many change events are kept for watchers resuming from an older revision.
    public let historyLimit: Int

    /// A granted lease.
    public struct Lease: Equatable, Sendable {
        /// Time to live the holder must keep alive within.
        public var ttlMillis: UInt64
        /// Keys attached to it.
        public var keys: Set<String>
    }

    /// Creates an empty store keeping `historyLimit` change events for watches.
    public init(historyLimit: Int = 100_000) {
        self.historyLimit = max(1, historyLimit)
    }

    // MARK: Reads

    /// The record for `key`, if it exists.
    public func get(_ key: String) -> MetaKeyValue? {
        keys[key]
    }

    /// Every record whose key starts with `prefix`, sorted by key, at most `limit`.
    public func range(prefix: String, limit: Int = .max) -> [MetaKeyValue] {
        let matching = prefix.isEmpty ? Array(keys.values) : keys.values.filter { $0.key.hasPrefix(prefix) }
        return Array(matching.sorted { $0.key < $1.key }.prefix(limit))
    }

    /// The number of keys.
    public var count: Int { keys.count }

    /// The lease `id`, if granted.
    public func lease(_ id: UInt64) -> Lease? {
        leases[id]
    }

    /// All granted lease ids with their TTLs (the leader's lease tracker starts from these).
    public var allLeases: [UInt64: UInt64] {
        leases.mapValues(\.ttlMillis)
    }

    /// Changes to keys under `prefix` with revision ≥ `fromRevision`, in order, at most `limit`.
    /// Throws ``MetaError/compacted(oldestRevision:)`` when that history is gone.
    public func events(from fromRevision: UInt64, prefix: String, limit: Int = .max) throws(MetaError) -> [WatchEvent] {
        let from = max(fromRevision, 1)
        guard from >= oldestRetainedRevision else {
            throw .compacted(oldestRevision: oldestRetainedRevision)
        }
        var result: [WatchEvent] = []
        // History is sorted by revision: start at the first event at or after `from`.
        var index = history.partitionPoint { $0.revision >= from }
        while index < history.count && result.count < limit {
            let event = history[index]
            if event.keyValue.key.hasPrefix(prefix) { result.append(event) }
            index += 1
        }
        return result
    }

    // MARK: Writes

    /// Applies one command and returns its result. Deterministic.
    public mutating func apply(_ command: MetaCommand) -> MetaCommandResult {
        switch command {
        case .put(let key, let value, let lease):
            if let problem = validate(key: key, value: value, lease: lease) { return .rejected(problem) }
            let previous = keys[key]
            revision += 1
            write(key: key, value: value, lease: lease)
            return .written(revision: revision, previous: previous)

        case .delete(let key):
            guard keys[key] != nil else { return .deleted(revision: revision, count: 0) }
            revision += 1
            remove(key)
            return .deleted(revision: revision, count: 1)

        case .deletePrefix(let prefix):
            let doomed = keys.keys.filter { $0.hasPrefix(prefix) }.sorted()
            guard !doomed.isEmpty else { return .deleted(revision: revision, count: 0) }
            revision += 1
            doomed.forEach { remove($0) }
            return .deleted(revision: revision, count: doomed.count)

        case .compareAndSet(let key, let expect, let value, let lease):
            if let problem = validate(key: key, value: value ?? [], lease: lease) { return .rejected(problem) }
            let current = keys[key]
            let matches: Bool
            switch expect {
            case .absent: matches = current == nil
            case .modRevision(let expected): matches = current?.modRevision == expected
            case .value(let expected): matches = current?.value == expected
            }
            guard matches else { return .compareFailed(revision: revision, current: current) }
            if let value {
                revision += 1
                write(key: key, value: value, lease: lease)
                return .written(revision: revision, previous: current)
            }
            guard current != nil else { return .deleted(revision: revision, count: 0) }
            revision += 1
            remove(key)
            return .deleted(revision: revision, count: 1)

        case .grantLease(let id, let ttl):
            guard id != 0 else { return .rejected(.leaseNotFound(0)) }
            guard leases[id] == nil else { return .rejected(.leaseExists(id)) }
            revision += 1
            leases[id] = Lease(ttlMillis: ttl, keys: [])
            return .lease(revision: revision)

        case .revokeLease(let id):
            guard let lease = leases.removeValue(forKey: id) else { return .rejected(.leaseNotFound(id)) }
            revision += 1
            lease.keys.sorted().forEach { remove($0) }
            return .lease(revision: revision)
        }
    }

    private func validate(key: String, value: [UInt8], lease: UInt64) -> MetaError? {
        if key.isEmpty || key.utf8.count > MetaLimits.maxKeyBytes { return .invalidKey(key) }
        if value.count > MetaLimits.maxValueBytes { return .valueTooLarge(value.count) }
        if lease != 0 && leases[lease] == nil { return .leaseNotFound(lease) }
        return nil
    }

    /// Writes at the current revision (already advanced by the caller).
    private mutating func write(key: String, value: [UInt8], lease: UInt64) {
        let previous = keys[key]
        if let old = previous?.lease, old != 0, old != lease { leases[old]?.keys.remove(key) }
        if lease != 0 { leases[lease]?.keys.insert(key) }
        let record = MetaKeyValue(
            key: key, value: value,
            createRevision: previous?.createRevision ?? revision,
            modRevision: revision,
            version: (previous?.version ?? 0) + 1,
            lease: lease
        )
        keys[key] = record
        remember(WatchEvent(kind: .put, keyValue: record, previous: previous))
    }

    /// Removes at the current revision (already advanced by the caller).
    private mutating func remove(_ key: String) {
        guard let previous = keys.removeValue(forKey: key) else { return }
        if previous.lease != 0 { leases[previous.lease]?.keys.remove(key) }
        let tombstone = MetaKeyValue(key: key, value: [], createRevision: 0, modRevision: revision, version: 0, lease: 0)
        remember(WatchEvent(kind: .delete, keyValue: tombstone, previous: previous))
    }

    private mutating func remember(_ event: WatchEvent) {
        history.append(event)
        while history.count > historyLimit {
            let dropped = history.removeFirst()
            // Keep whole revisions: a watcher must never see part of one revision's changes.
            while let next = history.first, next.revision == dropped.revision { history.removeFirst() }
            oldestRetainedRevision = dropped.revision + 1
        }
    }
}
