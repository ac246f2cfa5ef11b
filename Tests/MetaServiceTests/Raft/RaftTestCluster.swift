@testable import MetaService

/// A hand-driven cluster for transcript tests: readies are persisted instantly and messages
/// are delivered only when a test says so, so every step can be inspected.
struct RaftTestCluster {
    var nodes: [RaftNodeID: RaftNode] = [:]
    var storage: [RaftNodeID: MemoryRaftStorage] = [:]
    /// Messages sent and not yet delivered, in send order.
    var inFlight: [RaftMessage] = []
    var applied: [RaftNodeID: [RaftEntry]] = [:]
    var readStates: [RaftNodeID: [RaftReadState]] = [:]
    /// Every message ever sent, in send order.
    var sentLog: [RaftMessage] = []

    static let options = RaftOptions(electionTimeout: 10, heartbeatTimeout: 1, maxInflightMessages: 2, maxMessageBytes: 64)

    init(voters: [RaftNodeID], learners: [RaftNodeID] = [], joiners: [RaftNodeID] = [], options: RaftOptions = RaftTestCluster.options) {
        let configuration = RaftConfiguration(voters: Set(voters), learners: Set(learners))
        for id in voters + learners {
            add(id, storage: MemoryRaftStorage(bootstrap: configuration), options: options)
        }
        for id in joiners {
            add(id, storage: MemoryRaftStorage(), options: options)
        }
    }

    mutating func add(_ id: RaftNodeID, storage disk: MemoryRaftStorage, options: RaftOptions = RaftTestCluster.options) {
        storage[id] = disk
        // Force-try is acceptable in tests: storage built in-process is always valid.
        nodes[id] = try! RaftNode(id: id, storage: disk, options: options, seed: id)
    }

    subscript(id: RaftNodeID) -> RaftNode {
        get { nodes[id]! }
        set { nodes[id] = newValue }
    }

    /// Collects every node's ready, persisting and applying it; returns the messages sent.
    @discardableResult
    mutating func flush() -> [RaftMessage] {
        var sent: [RaftMessage] = []
        for id in nodes.keys.sorted() {
            while let ready = nodes[id]?.ready() {
                try! storage[id]!.persist(ready)
                applied[id, default: []] += ready.committedEntries
                readStates[id, default: []] += ready.readStates
                sent += ready.messages
                nodes[id]!.advance(ready)
            }
        }
        inFlight += sent
        sentLog += sent
        return sent
    }

    /// Delivers the in-flight messages matching `filter` (others stay queued).
    mutating func deliver(where filter: (RaftMessage) -> Bool = { _ in true }) {
        let batch = inFlight.filter(filter)
        inFlight.removeAll(where: filter)
        for message in batch { nodes[message.to]?.step(message) }
    }

    /// Drops the in-flight messages matching `filter`.
    mutating func drop(where filter: (RaftMessage) -> Bool) {
        inFlight.removeAll(where: filter)
    }

    /// Flushes and delivers until no message is in flight (`isolated` nodes send and receive nothing).
    mutating func settle(isolated: Set<RaftNodeID> = [], rounds: Int = 50) {
        for _ in 0..<rounds {
            flush()
            drop { isolated.contains($0.from) || isolated.contains($0.to) }
            if inFlight.isEmpty { return }
            deliver()
        }
    }

    /// Makes `id` campaign and delivers everything until quiet.
    mutating func elect(_ id: RaftNodeID) {
        nodes[id]!.campaign()
        settle()
    }

    /// Ticks every node `count` times.
    mutating func tick(_ count: Int = 1, only: Set<RaftNodeID>? = nil) {
        for _ in 0..<count {
            for id in nodes.keys.sorted() where only?.contains(id) ?? true {
                nodes[id]!.tick()
            }
        }
    }
}
