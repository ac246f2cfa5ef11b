import Logging
import Metrics
import NIOCore
import NIOPosix
import Shared

/// A running MetaService replica: the driver of one ``RaftNode`` and its ``MetaStore``.
///
/// All Raft and state-machine state lives on ONE event loop (``eventLoop``); every input (a
/// tick, peer messages, a proposal, a read) runs there, then the Ready loop runs per the
/// ``RaftNode`` driver contract: the ready is persisted by ``DiskRaftStorage`` on a dedicated
/// storage thread (one persist — one fsync — per ready: group commit), THEN its messages are
/// sent (one `raft.step` per peer per ready, fire and forget), the snapshot installed, committed
/// entries applied (completing their proposals, matched by index and term), read states served,
/// and the core advanced. Every `snapshotInterval` applied entries the store is snapshotted and
/// the log compacted.
///
/// Followers forward key-value writes to the leader they know (`meta.forwardWrite`); other
/// writes (leases, membership) they refuse with `RPCError(.notLeader)` carrying the leader's
/// address, which ``MetaClient`` follows. Linearizable reads use ReadIndex and are served by any
/// member (followers forward the read-index request to the leader).
public final class MetaNode: @unchecked Sendable {
    /// Node settings.
    public struct Configuration: Sendable {
        /// This node's Raft id.
        public var id: RaftNodeID
        /// This node's RPC address as peers and clients reach it (`host:port`).
        public var address: String
        /// Known members' addresses (the founders for a bootstrap; may include this node).
        public var peers: [RaftNodeID: String]
        /// Where the WAL and snapshots live.
        public var dataDirectory: String
        /// Bootstrap `peers` as the voter set if the data directory is brand new.
        public var bootstrap: Bool
        /// Length of one Raft tick.
        public var tickInterval: TimeAmount
        /// Raft tuning (timeouts in ticks).
        public var raft: RaftOptions
        /// Snapshot and compact after this many applied entries.
        public var snapshotInterval: UInt64
        /// Change events kept for watchers.
        public var historyLimit: Int
        /// How long a linearizable read waits for its read index before failing `unavailable`.
        public var readTimeout: TimeAmount

        /// Creates a configuration.
        public init(
            id: RaftNodeID, address: String, peers: [RaftNodeID: String], dataDirectory: String,
            bootstrap: Bool, tickInterval: TimeAmount = .milliseconds(100), raft: RaftOptions = RaftOptions(),
            snapshotInterval: UInt64 = 10_000, historyLimit: Int = 100_000, readTimeout: TimeAmount = .seconds(3)
        ) {
            self.id = id
            self.address = address
            self.peers = peers
            self.dataDirectory = dataDirectory
            self.bootstrap = bootstrap
            self.tickInterval = tickInterval
            self.raft = raft
            self.snapshotInterval = max(1, snapshotInterval)
            self.historyLimit = historyLimit
            self.readTimeout = readTimeout
        }
    }

    /// Blocking storage, touched only on the storage thread.
    final class StorageBox: @unchecked Sendable {
        var storage: DiskRaftStorage
        init(_ storage: DiskRaftStorage) { self.storage = storage }
    }

    struct PendingProposal {
        var term: UInt64
        var promise: EventLoopPromise<MetaCommandResult?>
    }

    struct TrackedLease {
        var ttlMillis: UInt64
        var deadline: NIODeadline
    }

    /// The key prefix under which members' addresses are replicated.
    public static let memberKeyPrefix = "meta/members/"

    /// The settings.
    public let configuration: Configuration
    /// The loop that owns all state.
    public let eventLoop: any EventLoop
    let logger: Logger
    let connect: @Sendable (String) -> any RPCTransport
    let storageThread: NIOThreadPool
    let storage: StorageBox

    var raft: RaftNode
    var store: MetaStore
    var appliedIndex: UInt64
    var persisting = false
    var stopped = false
    var wasLeader = false
    var proposals: [UInt64: PendingProposal] = [:]
    /// Read batches awaiting their read index, by ReadIndex context.
    var reads: [UInt64: [EventLoopPromise<Void>]] = [:]
    /// Reads arrived in this loop iteration, sent as one ReadIndex request.
    var readBatch: [EventLoopPromise<Void>] = []
    var readsAwaitingApply: [(index: UInt64, promise: EventLoopPromise<Void>)] = []
    var nextReadID: UInt64 = 0
    var leases: [UInt64: TrackedLease] = [:]
    var revoking: Set<UInt64> = []
    var watchers: [ObjectIdentifier: MetaWatcher] = [:]
    var transports: [RaftNodeID: (address: String, transport: any RPCTransport)] = [:]
    var tickTask: RepeatedTask?

    let termGauge: Gauge
    /// Told whether this node knows a leader (is usable), each time that changes; on the loop.
    private var leaderObserver: (@Sendable (Bool) -> Void)?
    private var reportedLeaderKnown: Bool?
    /// Told whether this node leads (and its term) each time that changes; on the loop.
    var roleObservers: [@Sendable (_ isLeader: Bool, _ term: UInt64) -> Void] = []
    let commitGauge: Gauge
    let appliedGauge: Gauge
    let proposalCounter: Counter
    let persistTimer: Metrics.Timer

    /// Opens (or bootstraps) the storage in `configuration.dataDirectory` and recovers the
    /// state machine from its snapshot; call ``start()`` to begin ticking. `connect` makes a
    /// transport to a peer's address (an ``RPCClient``, or an ``InProcessTransport`` in tests).
    public init(
        configuration: Configuration, eventLoop: any EventLoop, logger: Logger,
        connect: @escaping @Sendable (String) -> any RPCTransport
    ) throws {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.logger = logger
        self.connect = connect
        let bootstrap = configuration.bootstrap ? RaftConfiguration(voters: Set(configuration.peers.keys)) : nil
        let disk = try DiskRaftStorage(directory: configuration.dataDirectory, bootstrap: bootstrap, logger: logger)
        self.storage = StorageBox(disk)
        self.raft = try RaftNode(id: configuration.id, storage: disk, options: configuration.raft, seed: UInt64.random(in: 1...UInt64.max))
        if disk.snapshot.index > 0 {
            self.store = try MetaStore(snapshot: disk.snapshot.data, historyLimit: configuration.historyLimit)
        } else {
            self.store = MetaStore(historyLimit: configuration.historyLimit)
        }
        self.appliedIndex = disk.snapshot.index
        self.storageThread = NIOThreadPool(numberOfThreads: 1)
        let dimensions = [("node", String(configuration.id))]
        termGauge = Gauge(label: "tributary_meta_raft_term", dimensions: dimensions)
        commitGauge = Gauge(label: "tributary_meta_raft_commit_index", dimensions: dimensions)
        appliedGauge = Gauge(label: "tributary_meta_raft_applied_index", dimensions: dimensions)
        proposalCounter = Counter(label: "tributary_meta_proposals_total", dimensions: dimensions)
        persistTimer = Metrics.Timer(label: "tributary_meta_ready_persist_seconds", dimensions: dimensions)
        for (id, ttl) in store.allLeases {
            leases[id] = TrackedLease(ttlMillis: ttl, deadline: .now() + .milliseconds(Int64(clamping: ttl)))
        }
    }

    /// Calls `observer` with whether this node knows a current leader (and so can serve), now
    /// and whenever that changes; `false` also when the node stopped after a storage failure.
    /// Readiness probes use it. Call before ``start()``.
    public func observeLeadership(_ observer: @escaping @Sendable (Bool) -> Void) {
        leaderObserver = observer
    }

    private func reportLeadership(_ known: Bool) {
        guard known != reportedLeaderKnown else { return }
        reportedLeaderKnown = known
        leaderObserver?(known)
    }

    /// Starts the storage thread and the tick timer.
    public func start() {
        storageThread.start()
        let interval = configuration.tickInterval
        eventLoop.execute {
            self.tickTask = self.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                self.tick()
            }
            self.drive()
        }
    }

    /// Stops ticking, fails whatever waits, ends watches and closes peer connections.
    public func shutdown() async {
        let closing: [any RPCTransport] = (try? await eventLoop.submit { () -> [any RPCTransport] in
            self.stopped = true
            self.tickTask?.cancel()
            self.stepDownObservers()
            let gone = RPCError(.unavailable, "meta node is shutting down")
            for (_, proposal) in self.proposals { proposal.promise.fail(gone) }
            self.proposals = [:]
            for read in self.reads.values.joined() { read.fail(gone) }
            self.reads = [:]
            for read in self.readBatch { read.fail(gone) }
            self.readBatch = []
            for waiting in self.readsAwaitingApply { waiting.promise.fail(gone) }
            self.readsAwaitingApply = []
            for watcher in Array(self.watchers.values) { self.end(watcher, error: gone) }
            let transports = self.transports.values.map(\.transport)
            self.transports = [:]
            return transports
        }.get()) ?? []
        for transport in closing {
            if let client = transport as? RPCClient { await client.shutdown() }
        }
        try? await storageThread.shutdownGracefully()
    }

    // MARK: Inputs (on the loop)

    func tick() {
        guard !stopped else { return }
        raft.tick()
        expireLeases()
        drive()
    }

    /// Feeds peer messages addressed to this node.
    func step(_ messages: [RaftMessage]) {
        guard !stopped else { return }
        for message in messages where message.to == configuration.id {
            raft.step(message)
        }
        drive()
    }

    /// Proposes a command; the future yields its result once applied here (`nil` for entries
    /// without application data). Fails `notLeader`/`unavailable` on a follower.
    func propose(_ command: MetaCommand) -> EventLoopFuture<MetaCommandResult?> {
        eventLoop.assertInEventLoop()
        let promise = eventLoop.makePromise(of: MetaCommandResult?.self)
        do {
            let index = try raft.propose(command.encoded)
            proposals[index] = PendingProposal(term: raft.term, promise: promise)
            proposalCounter.increment()
            drive()
        } catch {
            promise.fail(rpcError(error))
        }
        return promise.futureResult
    }

    /// Waits until a read served from the local store is linearizable (ReadIndex). Reads that
    /// arrive in the same event-loop iteration share one ReadIndex round.
    func readBarrier() -> EventLoopFuture<Void> {
        eventLoop.assertInEventLoop()
        let promise = eventLoop.makePromise(of: Void.self)
        readBatch.append(promise)
        if readBatch.count == 1 {
            eventLoop.execute { self.flushReads() }
        }
        return promise.futureResult
    }

    private func flushReads() {
        let batch = readBatch
        readBatch = []
        guard !batch.isEmpty, !stopped else { return }
        nextReadID += 1
        let id = nextReadID
        var context: [UInt8] = []
        withUnsafeBytes(of: id.bigEndian) { context.append(contentsOf: $0) }
        do {
            try raft.readIndex(context: context)
        } catch {
            let refusal = rpcError(error)
            for promise in batch { promise.fail(refusal) }
            return
        }
        reads[id] = batch
        eventLoop.scheduleTask(in: configuration.readTimeout) {
            let timedOut = RPCError(.unavailable, "no read index within the read timeout (leader change?)")
            for promise in self.reads.removeValue(forKey: id) ?? [] { promise.fail(timedOut) }
        }
        drive()
    }

    /// The RPC error for a refused Raft request (the leader's address in `notLeader`'s detail).
    func rpcError(_ error: RaftError) -> RPCError {
        switch error {
        case .notLeader(let leader):
            let address = leader == 0 ? "" : self.address(of: leader)
            if address.isEmpty { return RPCError(.unavailable, "no leader is known yet") }
            return RPCError(.notLeader, "node \(configuration.id) is not the leader; node \(leader) is", detail: ByteBuffer(string: address))
        case .transferInProgress: return RPCError(.unavailable, "a leadership transfer is in progress")
        case .confChangePending: return RPCError(.failedPrecondition, "another membership change is pending")
        case .invalidConfChange(let change): return RPCError(.invalidArgument, "membership change \(change) does not apply")
        case .invalidTransferTarget(let target): return RPCError(.invalidArgument, "node \(target) cannot take leadership")
        case .compactionOutOfRange(let index): return RPCError(.internal, "compaction at \(index) out of range")
        }
    }

    /// A member's address: this node's own, the replicated `meta/members/ID` key, or `peers`.
    func address(of id: RaftNodeID) -> String {
        if id == configuration.id { return configuration.address }
        if let record = store.get(Self.memberKeyPrefix + String(id)) {
            return String(decoding: record.value, as: UTF8.self)
        }
        return configuration.peers[id] ?? ""
    }

    /// The transport to member `id` (made on first use, remade when its address changes).
    func transport(to id: RaftNodeID) -> (any RPCTransport)? {
        let address = self.address(of: id)
        guard !address.isEmpty else { return nil }
        if let known = transports[id], known.address == address { return known.transport }
        let transport = connect(address)
        transports[id] = (address, transport)
        return transport
    }

    // MARK: The Ready loop

    func drive() {
        guard !stopped else { return }
        applyCommitted()
        guard !persisting, let ready = raft.ready() else { return }
        persisting = true
        let storage = self.storage
        let started = NIODeadline.now()
        storageThread.runIfActive(eventLoop: eventLoop) {
            try storage.storage.persist(ready)
        }.whenComplete { result in
            switch result {
            case .success:
                self.persistTimer.recordNanoseconds((NIODeadline.now() - started).nanoseconds)
                self.handle(ready)
            case .failure(let error):
                guard !self.stopped else { return }  // shutting down: the storage thread is gone
                // Without durable storage the node cannot keep its promises: stop acting.
                self.logger.critical("persisting a Raft ready failed; the meta node stops", metadata: ["error": "\(error)"])
                self.stopped = true
                self.tickTask?.cancel()
                self.reportLeadership(false)
                self.stepDownObservers()
            }
        }
    }

    private func handle(_ ready: RaftReady) {
        guard !stopped else { return }
        send(ready.messages)
        if let snapshot = ready.snapshot, snapshot.index > appliedIndex {
            installSnapshot(snapshot)
        }
        for entry in ready.committedEntries where entry.index > appliedIndex {
            apply(entry)
        }
        for state in ready.readStates {
            guard state.context.count == 8 else { continue }
            let id = state.context.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            for promise in reads.removeValue(forKey: id) ?? [] {
                if state.index <= appliedIndex { promise.succeed() } else { readsAwaitingApply.append((state.index, promise)) }
            }
        }
        raft.advance(ready)
        releaseReads()
        maybeCompact()
        noteLeadership()
        reportLeadership(raft.leaderID != 0)
        termGauge.record(raft.term)
        commitGauge.record(raft.log.committed)
        appliedGauge.record(appliedIndex)
        for watcher in watchers.values { pump(watcher) }
        persisting = false
        drive()
    }

    private func send(_ messages: [RaftMessage]) {
        guard !messages.isEmpty else { return }
        var batches: [RaftNodeID: [RaftMessage]] = [:]
        for message in messages { batches[message.to, default: []].append(message) }
        for (peer, batch) in batches {
            guard let transport = transport(to: peer) else {
                logger.debug("no address for peer; dropping raft messages", metadata: ["peer": "\(peer)"])
                continue
            }
            _ = transport.callFuture(MetaAPI.raftStep, RaftStepRequest(messages: batch), options: .timeout(.seconds(5)))
        }
    }

    /// Applies the committed entries already durable here at once, also while a ready is being
    /// persisted: a leader answers its clients when a quorum has acknowledged, not after its own
    /// next fsync (see ``RaftNode/takeCommittedEntries()``).
    private func applyCommitted() {
        let entries = raft.takeCommittedEntries()
        guard !entries.isEmpty else { return }
        for entry in entries where entry.index > appliedIndex {
            apply(entry)
        }
        releaseReads()
        appliedGauge.record(appliedIndex)
        for watcher in watchers.values { pump(watcher) }
    }

    private func installSnapshot(_ snapshot: RaftSnapshot) {
        do {
            store = try MetaStore(snapshot: snapshot.data, historyLimit: configuration.historyLimit)
        } catch {
            logger.critical("a snapshot from the leader does not decode; the meta node stops", metadata: ["error": "\(error)"])
            stopped = true
            return
        }
        appliedIndex = snapshot.index
        leases = [:]
        for (id, ttl) in store.allLeases {
            leases[id] = TrackedLease(ttlMillis: ttl, deadline: .now() + .milliseconds(Int64(clamping: ttl)))
        }
        logger.info("installed a snapshot", metadata: ["index": "\(snapshot.index)", "revision": "\(store.revision)"])
    }

    private func apply(_ entry: RaftEntry) {
        appliedIndex = entry.index
        var result: MetaCommandResult?
        if entry.kind == .normal {
            do {
                let command = try MetaCommand(bytes: entry.data)
                let applied = store.apply(command)
                result = applied
                trackLeases(command, applied)
            } catch {
                logger.error("a committed entry does not decode; skipped", metadata: ["index": "\(entry.index)", "error": "\(error)"])
            }
        }
        guard let proposal = proposals.removeValue(forKey: entry.index) else { return }
        if proposal.term == entry.term {
            proposal.promise.succeed(result)
        } else {
            proposal.promise.fail(RPCError(.unavailable, "leadership changed; the proposal was not committed"))
        }
    }

    private func releaseReads() {
        guard !readsAwaitingApply.isEmpty else { return }
        let applied = appliedIndex
        readsAwaitingApply.removeAll { waiting in
            guard waiting.index <= applied else { return false }
            waiting.promise.succeed()
            return true
        }
    }

    private func maybeCompact() {
        let applied = raft.log.applied
        guard applied >= raft.log.snapshot.index + configuration.snapshotInterval, applied <= raft.log.stableIndex else { return }
        do {
            let snapshot = try raft.compact(upTo: applied, data: store.snapshot())
            let storage = self.storage
            storageThread.runIfActive(eventLoop: eventLoop) {
                try storage.storage.compact(to: snapshot)
            }.whenFailure { error in
                self.logger.error("compacting the Raft log failed", metadata: ["error": "\(error)"])
            }
            logger.debug("took a snapshot", metadata: ["index": "\(applied)"])
        } catch {
            logger.error("snapshot failed", metadata: ["error": "\(error)"])
        }
    }

    private func noteLeadership() {
        let isLeader = raft.role == .leader
        if isLeader && !wasLeader {
            // A new leader cannot know when holders last renewed: every lease gets a full TTL.
            let now = NIODeadline.now()
            for (id, lease) in leases {
                leases[id]?.deadline = now + .milliseconds(Int64(clamping: lease.ttlMillis))
            }
            logger.info("became the leader", metadata: ["term": "\(raft.term)"])
            for observer in roleObservers { observer(true, raft.term) }
        }
        if !isLeader {
            revoking = []
        }
        if wasLeader && !isLeader && !proposals.isEmpty {
            // The entries may still commit under the next leader; the caller cannot know.
            let lost = RPCError(.unavailable, "leadership was lost before the proposal was applied; its outcome is unknown")
            for (_, proposal) in proposals { proposal.promise.fail(lost) }
            proposals = [:]
            logger.info("lost leadership", metadata: ["term": "\(raft.term)"])
        }
        if wasLeader && !isLeader {
            for observer in roleObservers { observer(false, raft.term) }
        }
        wasLeader = isLeader
    }
}
