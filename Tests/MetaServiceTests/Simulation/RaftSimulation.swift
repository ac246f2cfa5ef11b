import MetaService
import NIOCore

/// A deterministic simulation of a Raft cluster: seeded network faults (drops, delays,
/// duplicates, reordering, symmetric and asymmetric partitions), crash-restarts that lose every
/// ready not yet made durable, client operations on a key-value state machine, membership
/// changes, leader transfers and log compaction. Safety is checked on every step; liveness and
/// linearizability at the end.
final class RaftSimulation {
    struct Node {
        let id: RaftNodeID
        var raft: RaftNode?
        var disk: MemoryRaftStorage
        var kv = KVStore()
        var applied: UInt64 = 0
        var pending: RaftReady?
        var persistAt = 0
        var downUntil = 0
        var durableCommitChecked: UInt64 = 0
        /// Reads answered by Raft, waiting for the state machine: (op ID, read index).
        var reads: [(opID: UInt64, index: UInt64)] = []
    }

    struct Envelope {
        var deliverAt: Int
        var message: RaftMessage
    }

    struct PendingOp {
        var history: Int
        var opID: UInt64
        var node: RaftNodeID
        var writeIndex: UInt64?
        var deadline: Int
    }

    struct Link: Hashable {
        var from: RaftNodeID
        var to: RaftNodeID
    }

    let seed: UInt64
    var options: SimulationOptions
    var rng: SimRandom
    var nodes: [Node] = []
    var network: [Envelope] = []
    var blocked: Set<Link> = []
    var checker = SafetyChecker()
    var clients: [PendingOp?]
    var history: [HistoryOperation] = []
    var discarded: Set<Int> = []
    var now = 0
    var clock = 0
    var nextOpID: UInt64 = 1
    var chaos = true
    var stats = Stats()

    struct Stats {
        var delivered = 0
        var crashes = 0
        var confChanges = 0
        var transfers = 0
        var compactions = 0
        var snapshotsInstalled = 0
        var writesAcknowledged = 0
        var readsAcknowledged = 0
        var healTicks = 0
    }

    init(seed: UInt64, options: SimulationOptions) {
        self.seed = seed
        self.options = options
        self.rng = SimRandom(seed: seed)
        self.clients = Array(repeating: nil, count: options.clients)
        let founders = RaftConfiguration(voters: Set((1...UInt64(options.voters))))
        for id in 1...UInt64(options.voters + options.spares) {
            let disk = id <= UInt64(options.voters) ? MemoryRaftStorage(bootstrap: founders) : MemoryRaftStorage()
            nodes.append(Node(id: id, raft: nil, disk: disk))
            restart(id)
        }
    }

    var allIDs: [RaftNodeID] { nodes.map(\.id) }

    func index(_ id: RaftNodeID) -> Int { Int(id - 1) }

    /// The live node that leads the highest term, if any.
    var leader: RaftNode? {
        var best: Int?
        for i in nodes.indices where nodes[i].raft?.role == .leader {
            if let b = best, let term = nodes[i].raft?.term, let bestTerm = nodes[b].raft?.term, term <= bestTerm { continue }
            best = i
        }
        return best.flatMap { nodes[$0].raft }
    }

    // MARK: - Running

    /// Runs the chaotic phase, heals, checks liveness and returns the violations found.
    func run() -> [String] {
        for _ in 0..<options.steps {
            step()
            if !checker.violations.isEmpty { return checker.violations }
        }
        heal()
        checkLiveness()
        var violations = checker.violations
        if violations.isEmpty {
            let kept = history.indices.filter { !discarded.contains($0) }.map { history[$0] }
            switch LinearizabilityChecker.check(kept) {
            case .linearizable: break
            case .notLinearizable(let key): violations.append("history of key \(key) is not linearizable")
            case .gaveUp(let key): violations.append("linearizability search for key \(key) exceeded its budget")
            }
        }
        return violations
    }

    func step() {
        now += 1
        if chaos { injectFaults() }
        deliver()
        for i in nodes.indices where nodes[i].raft != nil {
            nodes[i].raft?.tick()
        }
        for i in nodes.indices where nodes[i].raft != nil {
            drive(i)
        }
        serveReads()
        expireClients()
        if chaos { startClientOperations() }
        for i in nodes.indices where nodes[i].raft?.role == .leader {
            if let raft = nodes[i].raft { checker.observe(raft) }
        }
    }

    // MARK: - Driver (the model of the IO layer)

    func drive(_ i: Int) {
        if rng.chance(options.earlyApplyRate) {
            for entry in nodes[i].raft?.takeCommittedEntries() ?? [] {
                apply(entry, at: i)
            }
        }
        for _ in 0..<3 {
            if nodes[i].pending != nil {
                guard nodes[i].persistAt <= now else { return }
                complete(i)
            }
            guard let ready = nodes[i].raft?.ready() else { break }
            nodes[i].pending = ready
            nodes[i].persistAt = now + rng.int(0...options.maxPersistDelay)
        }
        maybeCompact(i)
    }

    /// Makes a ready durable, sends its messages, applies it and acknowledges it.
    func complete(_ i: Int) {
        guard let ready = nodes[i].pending else { return }
        let id = nodes[i].id
        do {
            try nodes[i].disk.persist(ready)
        } catch {
            checker.fail("node \(id): storage refused a ready: \(error)")
        }
        if let first = ready.entries.first {
            checker.persisted(node: id, entries: ready.entries, previousTerm: nodes[i].disk.term(at: first.index - 1))
        }
        recordDurableCommit(i)
        for message in ready.messages { send(message) }
        if let snapshot = ready.snapshot {
            nodes[i].kv = KVStore(snapshot: snapshot.data) ?? KVStore()
            nodes[i].applied = snapshot.index
            stats.snapshotsInstalled += 1
        }
        for entry in ready.committedEntries {
            apply(entry, at: i)
        }
        for read in ready.readStates {
            if let opID = KVCommand.decode(read.context)?.opID {
                nodes[i].reads.append((opID, read.index))
            }
        }
        nodes[i].raft?.advance(ready)
        nodes[i].pending = nil
    }

    func recordDurableCommit(_ i: Int) {
        let disk = nodes[i].disk
        let upTo = min(disk.hardState.commit, disk.lastIndex)
        var index = max(nodes[i].durableCommitChecked, disk.snapshot.index) + 1
        while index <= upTo {
            if let entry = try? disk.entries(index..<(index + 1)).first {
                checker.committed(entry, by: nodes[i].id)
            }
            index += 1
        }
        nodes[i].durableCommitChecked = max(nodes[i].durableCommitChecked, upTo)
    }

    func apply(_ entry: RaftEntry, at i: Int) {
        let id = nodes[i].id
        checker.committed(entry, by: id)
        if entry.index != nodes[i].applied + 1 {
            checker.fail("node \(id) applied \(entry.index) after \(nodes[i].applied)")
        }
        nodes[i].applied = entry.index
        var output: KVOutput?
        var opID: UInt64 = 0
        if entry.kind == .normal, let command = KVCommand.decode(entry.data) {
            output = nodes[i].kv.apply(command.operation)
            opID = command.opID
        }
        for c in clients.indices {
            guard let op = clients[c], op.node == id, op.writeIndex == entry.index else { continue }
            if op.opID == opID, let output {
                clock += 1
                history[op.history].output = output
                history[op.history].returned = clock
                stats.writesAcknowledged += 1
            } else {
                discarded.insert(op.history)  // Another entry took the slot: never executed.
            }
            clients[c] = nil
        }
    }

    func maybeCompact(_ i: Int) {
        guard nodes[i].pending == nil, var raft = nodes[i].raft,
              nodes[i].applied >= raft.log.snapshot.index + options.compactionThreshold,
              rng.chance(0.3)
        else { return }
        guard let snapshot = try? raft.compact(upTo: nodes[i].applied, data: nodes[i].kv.snapshotBytes()) else { return }
        nodes[i].raft = raft
        do {
            try nodes[i].disk.compact(to: snapshot)
            stats.compactions += 1
        } catch {
            checker.fail("node \(nodes[i].id): storage refused compaction: \(error)")
        }
    }

    // MARK: - Network

    func send(_ message: RaftMessage) {
        if chaos && rng.chance(options.dropRate) { return }
        network.append(Envelope(deliverAt: now + rng.int(1...options.maxDelay), message: message))
        if chaos && rng.chance(options.duplicateRate) {
            network.append(Envelope(deliverAt: now + rng.int(1...options.maxDelay), message: message))
        }
    }

    func deliver() {
        var due: [Envelope] = []
        network.removeAll { envelope in
            if envelope.deliverAt <= now {
                due.append(envelope)
                return true
            }
            return false
        }
        due.shuffle(using: &rng)
        for envelope in due {
            let message = envelope.message
            guard !blocked.contains(Link(from: message.from, to: message.to)),
                  message.to >= 1, Int(message.to) <= nodes.count,
                  nodes[index(message.to)].raft != nil
            else { continue }
            // Every 8th message travels through the wire codec (all of them would double the
            // run time of a debug build; the codec has its own tests).
            var delivered = message
            if stats.delivered % 8 == 0 {
                var buffer = ByteBufferAllocator().buffer(capacity: 64)
                message.encode(into: &buffer)
                guard let decoded = try? RaftMessage.decode(from: &buffer), decoded == message else {
                    checker.fail("wire round trip changed \(message)")
                    continue
                }
                delivered = decoded
            }
            nodes[index(message.to)].raft?.step(delivered)
            stats.delivered += 1
        }
    }

    // MARK: - Faults and administration

    func injectFaults() {
        if rng.chance(options.crashRate), let victim = rng.pick(nodes.filter { $0.raft != nil }.map(\.id)) {
            crash(victim)
        }
        for i in nodes.indices where nodes[i].raft == nil && nodes[i].downUntil <= now {
            restart(nodes[i].id)
        }
        if rng.chance(options.partitionRate) {
            partition()
        } else if rng.chance(options.healRate) {
            blocked = []
        }
        if rng.chance(options.confChangeRate) { changeMembership() }
        if rng.chance(options.transferRate), var leader = self.leader,
           let target = rng.pick(leader.configuration.voters.filter { $0 != leader.id }.sorted()) {
            if (try? leader.transferLeadership(to: target)) != nil {
                nodes[index(leader.id)].raft = leader
                stats.transfers += 1
            }
        }
    }

    func crash(_ id: RaftNodeID) {
        let i = index(id)
        nodes[i].raft = nil
        nodes[i].pending = nil
        nodes[i].reads = []
        nodes[i].downUntil = now + rng.int(5...60)
        stats.crashes += 1
        for c in clients.indices {
            guard let op = clients[c], op.node == id else { continue }
            // A write's outcome is unknown (the history keeps it open); a read had no effect.
            if op.writeIndex == nil { discarded.insert(op.history) }
            clients[c] = nil
        }
    }

    func restart(_ id: RaftNodeID) {
        let i = index(id)
        do {
            let raft = try RaftNode(id: id, storage: nodes[i].disk, options: options.raft, seed: rng.next())
            nodes[i].raft = raft
            nodes[i].kv = KVStore(snapshot: nodes[i].disk.snapshot.data) ?? KVStore()
            nodes[i].applied = nodes[i].disk.snapshot.index
            checker.restarted(raft)
        } catch {
            checker.fail("node \(id) cannot restart from its storage: \(error)")
        }
    }

    func partition() {
        blocked = []
        let ids = allIDs
        if rng.chance(0.5) {
            // Symmetric split into two sides.
            var side: [RaftNodeID: Bool] = [:]
            for id in ids { side[id] = rng.chance(0.5) }
            for a in ids { for b in ids where side[a] != side[b] { blocked.insert(Link(from: a, to: b)) } }
        } else {
            // Asymmetric: some one-way links fail.
            for a in ids { for b in ids where a != b && rng.chance(0.25) { blocked.insert(Link(from: a, to: b)) } }
        }
    }

    func changeMembership() {
        guard var leader = self.leader else { return }
        let configuration = leader.configuration
        var changes: [RaftConfChange] = []
        for id in allIDs where !configuration.members.contains(id) { changes.append(.addLearner(id)) }
        for id in configuration.learners.sorted() { changes += [.promoteLearner(id), .removeLearner(id)] }
        if configuration.voters.count > 3 {
            for id in configuration.voters.sorted() where id != leader.id { changes.append(.removeVoter(id)) }
        }
        guard let change = rng.pick(changes) else { return }
        if (try? leader.proposeConfChange(change)) != nil {
            nodes[index(leader.id)].raft = leader
            stats.confChanges += 1
        }
    }

    // MARK: - Liveness

    func heal() {
        chaos = false
        blocked = []
        for node in nodes where node.raft == nil { restart(node.id) }
        for c in clients.indices {
            if let op = clients[c], op.writeIndex == nil { discarded.insert(op.history) }
            clients[c] = nil
        }
    }

    /// After healing, a leader must be elected and commit a fresh entry on every member within
    /// `healSteps` steps.
    func checkLiveness() {
        var marker: (leader: RaftNodeID, term: UInt64, index: UInt64)?
        for tick in 1...options.healSteps {
            step()
            if let current = marker, let raft = nodes[index(current.leader)].raft,
               raft.term == current.term, raft.role == .leader {
                let members = raft.configuration.members
                if nodes.filter({ members.contains($0.id) }).allSatisfy({ $0.applied >= current.index }) {
                    stats.healTicks = tick
                    return
                }
                continue
            }
            if var raft = leader, raft.log.term(at: raft.log.committed) == raft.term,
               let entryIndex = try? raft.propose(KVCommand(opID: 0, operation: .get(key: 0)).encoded()) {
                nodes[index(raft.id)].raft = raft
                marker = (raft.id, raft.term, entryIndex)
            }
        }
        checker.fail("liveness: no leader committed a new entry on all members within \(options.healSteps) steps after healing")
    }
}
