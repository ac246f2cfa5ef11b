/// The role a ``RaftNode`` currently plays.
public enum RaftRole: Sendable, Equatable {
    case follower, preCandidate, candidate, leader
}

/// The IO-free Raft consensus core, in the shape of etcd-io/raft: inputs are ``step(_:)``,
/// ``tick()``, ``propose(_:)``, ``proposeConfChange(_:)``, ``readIndex(context:)`` and
/// ``transferLeadership(to:)``; the output is a ``RaftReady`` the driver collects with
/// ``ready()`` and acknowledges with ``advance(_:)``. It performs no IO, reads no clock and draws
/// randomness only from a generator seeded at creation, so a run is reproducible from its inputs.
///
/// Features: pre-vote, check-quorum with leader lease, per-follower flow control
/// (probe/replicate/snapshot, an in-flight window, a byte cap per message), fast backtracking
/// by conflicting term, commitment only of current-term entries by counting, snapshots and
/// InstallSnapshot, one-server-at-a-time membership changes with learners, leader transfer
/// (TimeoutNow) and ReadIndex reads.
///
/// ## Driver contract
///
/// A driver loops: feed inputs; when ``ready()`` returns a value `r`:
/// 1. Make durable, in this order: `r.snapshot` (replacing the whole stored log), `r.entries`
///    (discarding stored entries at or after the first one's index), `r.hardState`
///    (``RaftStorage/persist(_:)`` does all three). **All of it must be fsynced before any of
///    `r.messages` is sent**: votes, terms and acknowledged entries are promises. (The commit
///    index alone is no promise: a ready that changes nothing else needs no fsync.)
/// 2. Send `r.messages` (any order; the network may drop, delay, duplicate or reorder them).
/// 3. Install `r.snapshot` into the state machine, then apply `r.committedEntries` in order
///    (`normal` entries; `noop` and `confChange` entries carry no application data; the
///    membership already took effect when appended).
/// 4. Serve `r.readStates`: a read with read index `i` may be answered from the local state
///    machine once it has applied index `i`.
/// 5. Call ``advance(_:)`` with `r`. Until then ``ready()`` returns `nil`; inputs may still be
///    fed meanwhile (their output goes into the next ready).
///
/// Early application: at any time — also while a ready is being persisted —
/// ``takeCommittedEntries()`` hands out the committed entries that are already durable here and
/// not yet handed out, in order (none while an outstanding ready still carries committed entries
/// of its own, so that order is kept). The driver applies them at once; entries handed out this
/// way never appear in a later ready's `committedEntries`. A leader thus answers its clients as
/// soon as a quorum acknowledges, without waiting for its own next fsync.
///
/// A crash may lose any ready not yet made durable; restart with
/// ``init(id:storage:options:seed:)`` from the durable storage, and rebuild the state machine
/// from the storage's snapshot (the node re-delivers committed entries after it).
/// After applying, the driver may call ``compact(upTo:data:)`` with a snapshot of the state
/// machine, then ``RaftStorage/compact(to:)`` with the returned snapshot.
///
/// Membership uses single-server changes (not joint consensus), effective when appended; a
/// leader accepts a change only when the previous one is committed and it has committed an entry
/// of its own term (the fix for the single-server-change bug Ongaro described in 2015).
public struct RaftNode: Sendable {
    /// A read request a leader holds until it can be answered.
    struct ReadRequest: Sendable {
        var context: [UInt8]
        var from: RaftNodeID
    }

    /// A read awaiting a heartbeat quorum confirming leadership.
    struct PendingRead: Sendable {
        var sequence: UInt64
        var index: UInt64
        var request: ReadRequest
        var acks: Set<RaftNodeID>
    }

    /// This node's ID (non-zero).
    public let id: RaftNodeID
    /// The tuning.
    public let options: RaftOptions
    /// The current term.
    public internal(set) var term: UInt64
    /// The vote in the current term (`0` for none).
    public internal(set) var vote: RaftNodeID
    /// The current role.
    public internal(set) var role: RaftRole
    /// The known leader of the current term (`0` if unknown).
    public internal(set) var leaderID: RaftNodeID
    /// The log.
    public internal(set) var log: RaftLog
    /// The leader's view of each other member (empty unless leader).
    public internal(set) var progress: [RaftNodeID: RaftProgress]
    /// The target of an ongoing leadership transfer (`0` if none).
    public internal(set) var leadTransferee: RaftNodeID

    var votes: [RaftNodeID: Bool] = [:]
    var electionElapsed = 0
    var heartbeatElapsed = 0
    var randomizedElectionTimeout = 0
    var random: RaftRandom
    var outbox: [RaftMessage] = []
    var readStates: [RaftReadState] = []
    var pendingReads: [PendingRead] = []
    var readsAwaitingCommit: [ReadRequest] = []
    var readSequence: UInt64 = 0
    var lastReadyHardState: RaftHardState
    var readyOutstanding = false
    var broadcastPending = false
    /// The highest index handed to the driver for application (by a ready or
    /// ``takeCommittedEntries()``); at least ``RaftLog/applied``.
    var applying: UInt64

    /// Creates a node from its durable state (empty storage for a node joining a cluster,
    /// ``MemoryRaftStorage/init(bootstrap:)``-style storage for founders, or whatever survived
    /// a crash). `seed` drives the randomized election timeouts.
    public init(id: RaftNodeID, storage: some RaftStorage, options: RaftOptions = RaftOptions(), seed: UInt64) throws(RaftStorageError) {
        self.id = id
        self.options = options
        self.log = try RaftLog(storage: storage)
        let state = storage.hardState
        self.term = state.term
        self.vote = state.vote
        self.role = .follower
        self.leaderID = 0
        self.progress = [:]
        self.leadTransferee = 0
        self.random = RaftRandom(seed: seed ^ (id &* 0x9E37_79B9_7F4A_7C15))
        self.lastReadyHardState = state
        self.applying = log.applied
        resetElectionTimeout()
    }

    /// The hard state as of now (persisted by the driver through ready values).
    public var hardState: RaftHardState {
        RaftHardState(term: term, vote: vote, commit: log.committed)
    }

    /// The current membership.
    public var configuration: RaftConfiguration { log.configuration }

    /// Whether this node may campaign: it is a voter of its current configuration.
    public var isPromotable: Bool { log.configuration.voters.contains(id) }

    /// Advances the logical clock by one tick: followers and candidates count toward an
    /// election; leaders send heartbeats and run the check-quorum round.
    public mutating func tick() {
        if role == .leader {
            tickLeader()
        } else {
            electionElapsed += 1
            if isPromotable && electionElapsed >= randomizedElectionTimeout {
                electionElapsed = 0
                campaign(options.preVote ? .preElection : .election)
            }
        }
    }

    /// Starts an election now (with a pre-vote round if enabled), as if the timeout elapsed.
    public mutating func campaign() {
        guard role != .leader else { return }
        campaign(options.preVote ? .preElection : .election)
    }

    /// Appends `data` as a new entry on the leader and returns its index. The entry is sent
    /// to followers with the next ready (proposals between two readies are batched).
    @discardableResult
    public mutating func propose(_ data: [UInt8]) throws(RaftError) -> UInt64 {
        guard role == .leader else { throw .notLeader(leader: leaderID) }
        guard leadTransferee == 0 else { throw .transferInProgress }
        return appendEntry(kind: .normal, data: data)
    }

    /// Whether ``ready()`` would return a value.
    public var hasReady: Bool {
        guard !readyOutstanding else { return false }
        return broadcastPending || !outbox.isEmpty || !readStates.isEmpty || hardState != lastReadyHardState
            || log.snapshotPending || log.lastIndex > log.stableIndex
            || log.committed > max(applying, log.snapshot.index)
    }

    /// The next batch of work for the driver, or `nil` if there is none or the previous batch
    /// has not been acknowledged with ``advance(_:)``.
    public mutating func ready() -> RaftReady? {
        guard !readyOutstanding else { return nil }
        if broadcastPending {
            broadcastPending = false
            if role == .leader { broadcastAppend() }
        }
        var ready = RaftReady()
        let state = hardState
        if state != lastReadyHardState { ready.hardState = state }
        if log.snapshotPending { ready.snapshot = log.snapshot }
        ready.entries = log.unstableEntries
        let applyFrom = max(applying, log.snapshot.index) + 1
        if log.committed >= applyFrom {
            ready.committedEntries = log.slice(applyFrom, log.committed)
        }
        ready.messages = outbox
        ready.readStates = readStates
        if ready == RaftReady() { return nil }
        if let last = ready.committedEntries.last { applying = max(applying, last.index) }
        outbox = []
        readStates = []
        lastReadyHardState = state
        readyOutstanding = true
        return ready
    }

    /// The committed entries that are durable on this node and not yet handed out (by a ready or
    /// an earlier call), in index order, for the driver to apply now; they count as applied. Empty
    /// while the outstanding ready carries committed entries not yet acknowledged (they come
    /// first) or a snapshot awaits installation. Callable while a ready is outstanding.
    public mutating func takeCommittedEntries() -> [RaftEntry] {
        guard !log.snapshotPending, applying == log.applied else { return [] }
        let from = max(applying, log.snapshot.index) + 1
        let to = min(log.committed, log.stableIndex)
        guard to >= from else { return [] }
        let entries = log.slice(from, to)
        applying = to
        log.applied = max(log.applied, to)
        return entries
    }

    /// Acknowledges that `ready` was handled per the driver contract: its snapshot, entries
    /// and hard state are durable, its messages sent and its committed entries applied.
    public mutating func advance(_ ready: RaftReady) {
        readyOutstanding = false
        if let snapshot = ready.snapshot {
            if log.snapshotPending && log.snapshot.index == snapshot.index {
                log.snapshotPending = false
            }
            log.applied = max(log.applied, snapshot.index)
            applying = max(applying, snapshot.index)
        }
        if let last = ready.entries.last {
            log.stable(to: last.index, term: last.term)
        }
        if let last = ready.committedEntries.last {
            log.applied = max(log.applied, last.index)
        }
    }

    /// Compacts the log up to `index` (durable and applied) into a snapshot whose state machine
    /// image is `data`; returns the snapshot for ``RaftStorage/compact(to:)``.
    public mutating func compact(upTo index: UInt64, data: [UInt8]) throws(RaftError) -> RaftSnapshot {
        try log.compact(to: index, data: data)
    }

    /// Queues a message from this node.
    mutating func send(to: RaftNodeID, _ body: RaftMessageBody, term messageTerm: UInt64? = nil) {
        outbox.append(RaftMessage(from: id, to: to, term: messageTerm ?? term, body: body))
    }

    mutating func resetElectionTimeout() {
        let spread = UInt64(options.electionTimeout)
        randomizedElectionTimeout = options.electionTimeout + Int(random.next() % spread)
    }
}
