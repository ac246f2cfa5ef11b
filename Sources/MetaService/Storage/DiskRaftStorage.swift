import Logging
import NIOCore
import Shared

/// The production ``RaftStorage``: the write-ahead log and snapshot files on disk, mirrored in
/// memory (a ``MemoryRaftStorage``) for reads. Every ``persist(_:)`` carrying entries, a
/// snapshot or a new term or vote is durable (one fdatasync for the whole ready: group commit)
/// before it returns; a ready that only advances the commit index is written without an fsync
/// (a commit index promises nothing). The mirror changes only after the disk write succeeded, so
/// a failed write never leaves the node believing something it cannot prove.
///
/// Layout under its directory: `wal/wal-<seq>.log` and `snap/snapshot-<index>-<term>.snap`.
/// Blocking: the Raft driver calls it from its storage thread, never from an event loop.
public struct DiskRaftStorage: RaftStorage {
    private var mirror: MemoryRaftStorage
    private let wal: WriteAheadLog
    private let snapshots: SnapshotStore
    /// Bytes cut from a torn WAL tail when the storage was opened.
    public let recoveredTornBytes: Int

    /// Opens the storage in `directory`, recovering what is there. A brand-new directory is
    /// initialised with `bootstrap` (the founding configuration, committed as entry 1) when one
    /// is given, or left empty for a node that will join an existing cluster.
    public init(directory: String, bootstrap: RaftConfiguration?, segmentBytes: Int = 64 << 20, logger: Logger) throws(MetaStorageError) {
        try FileIO.makeDirectory(directory)
        snapshots = try SnapshotStore(directory: directory + "/snap", logger: logger)
        let (wal, recovered) = try WriteAheadLog.open(directory: directory + "/wal", segmentBytes: segmentBytes, logger: logger)
        self.wal = wal
        self.recoveredTornBytes = recovered.truncatedBytes

        var snapshot = RaftSnapshot.empty
        if let file = try snapshots.loadLatest() {
            var buffer = ByteBuffer(bytes: file.data)
            do {
                snapshot = try RaftSnapshot.decode(from: &buffer)
            } catch {
                throw .corrupt(path: directory + "/snap", offset: 0, reason: "snapshot \(file.index) does not decode: \(error)")
            }
        }
        if let marker = recovered.snapshot, marker.index > snapshot.index {
            throw .corrupt(path: directory + "/wal", offset: 0,
                           reason: "the log was compacted through index \(marker.index) but the newest snapshot file covers only \(snapshot.index)")
        }
        var entries: [RaftEntry] = []
        for record in recovered.entries where record.index > snapshot.index {
            guard let kindByte = record.payload.first, let kind = RaftEntry.Kind(rawValue: kindByte) else {
                throw .corrupt(path: directory + "/wal", offset: 0, reason: "entry \(record.index) has no valid kind")
            }
            let expected = snapshot.index + 1 + UInt64(entries.count)
            guard record.index == expected else {
                throw .corrupt(path: directory + "/wal", offset: 0, reason: "entry \(record.index) follows a gap (expected \(expected))")
            }
            entries.append(RaftEntry(term: record.term, index: record.index, kind: kind, data: Array(record.payload.dropFirst())))
        }
        let hardState = recovered.hardState.map { RaftHardState(term: $0.term, vote: $0.vote, commit: $0.commit) } ?? RaftHardState()
        mirror = MemoryRaftStorage(hardState: hardState, snapshot: snapshot, log: entries)

        let isEmpty = hardState == RaftHardState() && entries.isEmpty && snapshot.index == 0
        if isEmpty, let bootstrap {
            let founding = MemoryRaftStorage(bootstrap: bootstrap)
            do {
                try persist(RaftReady(hardState: founding.hardState, entries: founding.log))
            } catch {
                throw .failed(reason: "bootstrapping the log failed: \(error)")
            }
            logger.info("bootstrapped a new Raft log", metadata: ["voters": "\(bootstrap.voters.sorted())"])
        }
    }

    public var hardState: RaftHardState { mirror.hardState }
    public var snapshot: RaftSnapshot { mirror.snapshot }
    public var firstIndex: UInt64 { mirror.firstIndex }
    public var lastIndex: UInt64 { mirror.lastIndex }

    public func term(at index: UInt64) -> UInt64? {
        mirror.term(at: index)
    }

    public func entries(_ range: Range<UInt64>) throws(RaftStorageError) -> [RaftEntry] {
        try mirror.entries(range)
    }

    public mutating func persist(_ ready: RaftReady) throws(RaftStorageError) {
        var records: [WALRecord] = []
        if let incoming = ready.snapshot, incoming.index > mirror.snapshot.index {
            try durable { () throws(MetaStorageError) in try saveSnapshotFile(incoming) }
            records.append(.snapshot(index: incoming.index, term: incoming.term))
        }
        for entry in ready.entries {
            records.append(.entry(index: entry.index, term: entry.term, payload: [entry.kind.rawValue] + entry.data))
        }
        if let state = ready.hardState {
            records.append(.hardState(term: state.term, vote: state.vote, commit: state.commit))
        }
        guard !records.isEmpty else { return }
        // A ready that only moves the commit index needs no fsync (as in etcd): a commit index
        // is no promise to anyone, and one lost in an OS crash is learned again from the leader.
        // It is still written to the file (it survives the process).
        let mustSync = ready.snapshot != nil || !ready.entries.isEmpty
            || ready.hardState.map { $0.term != mirror.hardState.term || $0.vote != mirror.hardState.vote } ?? false
        try durable { () throws(MetaStorageError) in
            try wal.append(records)
            if mustSync { try wal.sync() } else { try wal.write() }
        }
        try mirror.persist(ready)
    }

    public mutating func compact(to newSnapshot: RaftSnapshot) throws(RaftStorageError) {
        guard newSnapshot.index > mirror.snapshot.index else { return }
        guard newSnapshot.index <= mirror.lastIndex else { throw .unavailable(index: newSnapshot.index) }
        try durable { () throws(MetaStorageError) in
            try saveSnapshotFile(newSnapshot)
            try wal.append([.snapshot(index: newSnapshot.index, term: newSnapshot.term)])
            try wal.sync()
            try wal.compact(through: newSnapshot.index)
        }
        try mirror.compact(to: newSnapshot)
    }

    /// The number of WAL segment files (for metrics and tests).
    public var walSegmentCount: Int { wal.segmentCount }

    private func saveSnapshotFile(_ snapshot: RaftSnapshot) throws(MetaStorageError) {
        var buffer = ByteBuffer()
        snapshot.encode(into: &buffer)
        try snapshots.save(.init(index: snapshot.index, term: snapshot.term, data: Array(buffer.readableBytesView)))
    }

    private func durable(_ body: () throws(MetaStorageError) -> Void) throws(RaftStorageError) {
        do {
            try body()
        } catch {
            throw .corrupt(error.description)
        }
    }
}
