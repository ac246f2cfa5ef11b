import NIOCore
import Shared

@testable import JournalServer

/// A seeded, deterministic simulation of one shard replicated over several segments: 3–5 nodes
/// running ``SegmentReplicaLeader`` and ``SegmentReplicaFollower`` over a lossy network (drops,
/// delays that reorder, duplicates), node crashes that lose unsynced writes, slow disks and
/// isolated nodes. The harness plays meta: it declares replicas dead, fences and seals with
/// ``SegmentSealPlanner`` and opens the next segment. ``check()`` then proves that every
/// acknowledged record and every record a reader saw is in the final log, once, at its offset.
///
/// Every message crosses the wire encoding. Iteration is always in sorted key order so a run is
/// a pure function of the seed.
struct ReplicationSimulation {
    struct InFlight {
        var deliverAt: Int
        var sequence: Int
        var from: UInt64
        var to: UInt64
        var bytes: ByteBuffer
    }

    struct ClientAppend {
        var segment: UInt64
        var values: [String]
        var completed = false
    }

    struct Acknowledged {
        var requestID: UInt64
        var segment: UInt64
        var baseOffset: Int64
        var lastOffset: Int64
    }

    let seed: UInt64
    var options: ReplicationSimOptions
    var random: ReplicationSimRandom
    var now = 0
    var nodes: [SimNode]
    var segments: [SimSegment] = []
    var network: [InFlight] = []
    var sequence = 0
    var nextRequestID: UInt64 = 1
    var requests: [UInt64: ClientAppend] = [:]
    var acknowledged: [Acknowledged] = []
    var failedAppends = 0
    var fencedAppends = 0
    var laggingFollowers = 0
    /// Offset → value of every record a reader returned.
    var observed: [Int64: String] = [:]
    var violations: [String] = []
    /// Set in the final phase: meta seals the active segment and opens no new one.
    var finalSeal = false
    var faultsEnabled = true

    init(seed: UInt64, options: ReplicationSimOptions) {
        self.seed = seed
        self.options = options
        self.random = ReplicationSimRandom(seed: seed)
        self.nodes = (1...options.nodes).map { SimNode(id: UInt64($0)) }
        for index in nodes.indices where random.chance(0.3) {
            nodes[index].slow = true
        }
        openSegment(base: 0, epoch: 1)
    }

    mutating func fail(_ message: String) {
        if violations.count < 20 {
            violations.append("seed \(seed) step \(now): \(message)")
        }
    }

    func index(_ id: UInt64) -> Int { Int(id) - 1 }

    // MARK: - Running

    /// Runs the chaotic phase, heals, checks liveness, seals the last segment and checks safety.
    mutating func run() {
        for _ in 0..<options.steps {
            chaos()
            step(clients: true)
        }
        heal()
        // Let meta replace segments whose replicas restarted, then require progress.
        for _ in 0..<(options.leaseSteps * 3) { step(clients: false) }
        // Liveness: a client that retries (appends may fail while a segment rolls) gets five
        // appends acknowledged.
        var acknowledgedAfterHeal = 0
        var inFlight: UInt64?
        for _ in 0..<options.healSteps where acknowledgedAfterHeal < 5 {
            if let id = inFlight, requests[id]?.completed == true {
                if acknowledged.last?.requestID == id { acknowledgedAfterHeal += 1 }
                inFlight = nil
            }
            if inFlight == nil { inFlight = clientAppend(stale: false) }
            step(clients: false)
        }
        if acknowledgedAfterHeal < 5 {
            fail("after healing, only \(acknowledgedAfterHeal) of 5 appends were acknowledged within \(options.healSteps) steps")
        }
        finalSeal = true
        for _ in 0..<options.healSteps where segments.last?.isSealed != true {
            step(clients: false)
        }
        if segments.last?.isSealed != true { fail("the final seal did not complete") }
        check()
    }

    mutating func step(clients: Bool) {
        deliver()
        sync()
        tick()
        metaStep()
        if clients {
            if random.chance(options.appendRate) {
                _ = clientAppend(stale: random.chance(options.staleRoutingShare))
            }
            if random.chance(options.readRate) { read() }
        }
        now += 1
    }

    mutating func chaos() {
        guard faultsEnabled else { return }
        if random.chance(options.crashRate), let id = random.pick(nodes.filter(\.alive).map(\.id)) {
            let i = index(id)
            nodes[i].alive = false
            nodes[i].incarnation += 1
            nodes[i].roles = [:]
            for key in nodes[i].stores.keys.sorted() { nodes[i].stores[key]?.crash() }
            markReachability(i)
        }
        for i in nodes.indices where !nodes[i].alive && random.chance(options.restartRate) {
            nodes[i].alive = true
            markReachability(i)
        }
        let isolated = nodes.filter(\.isolated).count
        if isolated < (options.nodes - 1) / 2, random.chance(options.isolateRate),
            let id = random.pick(nodes.filter { !$0.isolated }.map(\.id))
        {
            nodes[index(id)].isolated = true
            markReachability(index(id))
        }
        for i in nodes.indices where nodes[i].isolated && random.chance(options.healRate) {
            nodes[i].isolated = false
            markReachability(i)
        }
    }

    mutating func markReachability(_ i: Int) {
        if nodes[i].reachable {
            nodes[i].downSince = nil
        } else if nodes[i].downSince == nil {
            nodes[i].downSince = now
        }
    }

    mutating func heal() {
        faultsEnabled = false
        options.dropRate = 0
        options.duplicateRate = 0
        for i in nodes.indices {
            if !nodes[i].alive {
                nodes[i].alive = true
                nodes[i].roles = [:]
            }
            nodes[i].isolated = false
            markReachability(i)
        }
    }

    // MARK: - Network

    mutating func send(from: UInt64, to: UInt64, _ message: ReplicationMessage) {
        guard !random.chance(options.dropRate) else { return }
        var bytes = ByteBuffer()
        message.encode(into: &bytes)
        let copies = random.chance(options.duplicateRate) ? 2 : 1
        for _ in 0..<copies {
            let extra = nodes[index(to)].slow ? 1 : 0
            sequence += 1
            network.append(
                InFlight(deliverAt: now + random.int(1...options.maxDelay) + extra, sequence: sequence, from: from, to: to, bytes: bytes))
        }
    }

    mutating func deliver() {
        let due = network.filter { $0.deliverAt <= now }.sorted { ($0.deliverAt, $0.sequence) < ($1.deliverAt, $1.sequence) }
        network.removeAll { $0.deliverAt <= now }
        for message in due {
            guard nodes[index(message.from)].reachable, nodes[index(message.to)].reachable else { continue }
            var bytes = message.bytes
            let decoded: ReplicationMessage
            do {
                decoded = try ReplicationMessage.decode(from: &bytes)
            } catch {
                fail("a message did not decode: \(error)")
                continue
            }
            dispatch(decoded, to: message.to)
        }
    }

    mutating func dispatch(_ message: ReplicationMessage, to id: UInt64) {
        let i = index(id)
        switch message {
        case .push(let push):
            guard case .follower(var follower) = nodes[i].roles[push.segmentID] else { return }
            let actions = follower.handle(.push(push))
            nodes[i].roles[push.segmentID] = .follower(follower)
            perform(actions, node: id, segment: push.segmentID)
        case .ack(let ack):
            guard case .leader(var leader) = nodes[i].roles[ack.segmentID] else { return }
            let actions = leader.handle(.ack(ack))
            nodes[i].roles[ack.segmentID] = .leader(leader)
            perform(actions, node: id, segment: ack.segmentID)
        case .reject(let reject):
            guard case .leader(var leader) = nodes[i].roles[reject.segmentID] else { return }
            let actions = leader.handle(.reject(reject))
            nodes[i].roles[reject.segmentID] = .leader(leader)
            perform(actions, node: id, segment: reject.segmentID)
        case .sealRequest, .sealResponse:
            fail("seal traffic is not sent over the simulated network")
        }
    }

    // MARK: - Nodes

    mutating func sync() {
        for i in nodes.indices where nodes[i].alive {
            let rate = nodes[i].slow ? options.slowSyncRate : options.fastSyncRate
            for segment in nodes[i].stores.keys.sorted() {
                guard let store = nodes[i].stores[segment], store.durableCount < store.batches.count, random.chance(rate) else { continue }
                nodes[i].stores[segment]?.sync()
                let end = nodes[i].stores[segment]?.durableEnd ?? store.base
                switch nodes[i].roles[segment] {
                case .leader(var leader):
                    let actions = leader.handle(.localDurable(end: end))
                    nodes[i].roles[segment] = .leader(leader)
                    perform(actions, node: nodes[i].id, segment: segment)
                case .follower(var follower):
                    let actions = follower.handle(.localDurable(end: end))
                    nodes[i].roles[segment] = .follower(follower)
                    perform(actions, node: nodes[i].id, segment: segment)
                case nil:
                    break
                }
            }
        }
    }

    mutating func tick() {
        for i in nodes.indices where nodes[i].alive {
            for segment in nodes[i].roles.keys.sorted() {
                guard case .leader(var leader) = nodes[i].roles[segment] else { continue }
                let actions = leader.handle(.tick)
                nodes[i].roles[segment] = .leader(leader)
                perform(actions, node: nodes[i].id, segment: segment)
            }
        }
    }

    mutating func perform(_ actions: [SegmentReplicaLeader.Action], node: UInt64, segment: UInt64) {
        let i = index(node)
        for action in actions {
            switch action {
            case .appendLocally(let batch):
                if nodes[i].stores[segment]?.append(batch) != true { fail("leader \(node) appended out of order at \(batch.baseOffset)") }
            case .send(let to, let push):
                send(from: node, to: to, .push(push))
            case .appendSucceeded(let requestID, let baseOffset, let lastOffset):
                guard var request = requests[requestID], !request.completed else {
                    fail("append \(requestID) completed twice or was never made")
                    continue
                }
                request.completed = true
                requests[requestID] = request
                if lastOffset - baseOffset + 1 != Int64(request.values.count) || request.segment != segment {
                    fail("append \(requestID) acknowledged with the wrong range \(baseOffset)...\(lastOffset)")
                }
                acknowledged.append(Acknowledged(requestID: requestID, segment: segment, baseOffset: baseOffset, lastOffset: lastOffset))
            case .appendFailed(let requestID, let error):
                guard var request = requests[requestID], !request.completed else {
                    fail("append \(requestID) failed after completing")
                    continue
                }
                request.completed = true
                requests[requestID] = request
                failedAppends += 1
                if case .fenced = error { fencedAppends += 1 }
            case .followerTooFarBehind:
                laggingFollowers += 1
                if let position = segments.lastIndex(where: { $0.id == segment }) {
                    segments[position].laggingReported = true
                }
            case .highWatermarkAdvanced(let offset):
                // A majority holds it durably; the leader itself at least wrote it.
                if let end = nodes[i].stores[segment]?.end, offset > end {
                    fail("leader \(node) high watermark \(offset) beyond its log end \(end)")
                }
            }
        }
    }

    mutating func perform(_ actions: [SegmentReplicaFollower.Action], node: UInt64, segment: UInt64) {
        let i = index(node)
        for action in actions {
            switch action {
            case .appendLocally(let batch):
                if nodes[i].stores[segment]?.append(batch) != true { fail("follower \(node) appended out of order at \(batch.baseOffset)") }
            case .truncate(let offset):
                nodes[i].stores[segment]?.truncate(to: offset)
            case .send(let to, let message):
                send(from: node, to: to, message)
            case .replySeal, .highWatermarkAdvanced:
                break
            }
        }
    }

    // MARK: - Clients and readers

    /// Sends an append to the active segment's leader (or, for a client with a stale routing
    /// cache, to the leader of an older segment). Returns the request id if the leader got it.
    mutating func clientAppend(stale: Bool) -> UInt64? {
        var target: (node: UInt64, segment: UInt64)?
        if stale {
            let olds = segments.dropLast().filter { segment in
                if case .leader(let leader) = nodes[index(segment.leader)].roles[segment.id] { return leader.isLeading }
                return false
            }
            if let old = random.pick(Array(olds)) { target = (old.leader, old.id) }
        }
        if target == nil, let active = segments.last, !active.isSealed {
            target = (active.leader, active.id)
        }
        guard let target, nodes[index(target.node)].reachable,
            case .leader(var leader) = nodes[index(target.node)].roles[target.segment]
        else { return nil }
        let requestID = nextRequestID
        nextRequestID += 1
        let values = (0..<random.int(1...3)).map { "v\(requestID)-\($0)" }
        requests[requestID] = ClientAppend(segment: target.segment, values: values)
        let records = values.map { Record(timestamp: Int64(now), value: ByteBuffer(string: $0)) }
        let policy: ReplicaAckPolicy = random.chance(options.allPolicyShare) ? .all : .quorum
        let actions = leader.handle(.append(requestID: requestID, records: records, policy: policy))
        nodes[index(target.node)].roles[target.segment] = .leader(leader)
        perform(actions, node: target.node, segment: target.segment)
        return requestID
    }

    /// A reader on a random reachable node reads the newest batches below that replica's high
    /// watermark and remembers what it saw.
    mutating func read() {
        guard let id = random.pick(nodes.filter(\.reachable).map(\.id)) else { return }
        let i = index(id)
        guard let segment = random.pick(nodes[i].roles.keys.sorted()), let store = nodes[i].stores[segment] else { return }
        let highWatermark: Int64
        switch nodes[i].roles[segment] {
        case .leader(let leader): highWatermark = leader.highWatermark
        case .follower(let follower): highWatermark = follower.highWatermark
        case nil: return
        }
        guard highWatermark <= store.end else {
            fail("node \(id) segment \(segment) high watermark \(highWatermark) beyond its log end \(store.end)")
            return
        }
        for batch in store.batches.filter({ $0.endOffset <= highWatermark }).suffix(3) {
            guard let records = try? batch.records() else {
                fail("a stored batch did not decode")
                return
            }
            for record in records {
                let value = record.value.map { String(buffer: $0) } ?? ""
                if let seen = observed[record.offset], seen != value {
                    fail("readers saw \(seen) and then \(value) at offset \(record.offset)")
                }
                observed[record.offset] = value
            }
        }
    }
}
