import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import JournalServer
@testable import Shared

/// Three journal nodes in one process, each a ``ReplicatedSegmentStore`` (real logs with fsync)
/// served on a loopback ``RPCServer``; the segment leader pushes to its followers over real RPC.
final class ReplicationTestNodes: Sendable {
    static let logger = Logger(label: "journal-replication-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    let fixtures: [UInt64: ShardTestStore]
    let stores = Mutex<[UInt64: ReplicatedSegmentStore]>([:])
    let servers = Mutex<[UInt64: RPCServer]>([:])
    let clients = Mutex<[UInt64: RPCClient]>([:])

    init(count: Int) {
        var fixtures: [UInt64: ShardTestStore] = [:]
        for id in 1...UInt64(count) { fixtures[id] = ShardTestStore() }
        self.fixtures = fixtures
    }

    static func with<T>(count: Int = 3, _ body: (ReplicationTestNodes) async throws -> T) async throws -> T {
        let nodes = ReplicationTestNodes(count: count)
        do {
            for id in nodes.fixtures.keys.sorted() { try await nodes.start(id) }
            let result = try await body(nodes)
            await nodes.shutdown()
            return result
        } catch {
            await nodes.shutdown()
            throw error
        }
    }

    /// Starts node `id` (a fresh store over its data directory: in-memory state is lost, as in a restart).
    func start(_ id: UInt64) async throws {
        let fixture = try #require(fixtures[id])
        let store = ReplicatedSegmentStore(
            nodeID: id, dataDirectory: fixture.dataDirectory, eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            threadPool: fixture.threadPool, logger: Self.logger
        ) { [weak self] peer in self?.clients.withLock { $0[peer] } }
        var router = RPCRouter()
        store.register(into: &router)
        let server = RPCServer(configuration: .init(host: "127.0.0.1", port: 0), router: router, logger: Self.logger)
        let port = try #require(try await server.start().port)
        let client = RPCClient(endpoints: [RPCEndpoint(host: "127.0.0.1", port: port)], logger: Self.logger)
        stores.withLock { $0[id] = store }
        servers.withLock { $0[id] = server }
        let previous = clients.withLock { $0.updateValue(client, forKey: id) }
        await previous?.shutdown()
    }

    /// Stops node `id`: its server goes away and its replicas close (their logs keep what was durable).
    func stop(_ id: UInt64) async {
        if let server = servers.withLock({ $0.removeValue(forKey: id) }) { await server.shutdown() }
        if let store = stores.withLock({ $0.removeValue(forKey: id) }) { await store.close() }
    }

    func store(_ id: UInt64) throws -> ReplicatedSegmentStore { try #require(stores.withLock { $0[id] }) }

    /// Opens segment `segmentID` of shard `s` on `replicas` (first = leader) at `epoch`.
    func openSegment(_ segmentID: UInt64, base: Int64, epoch: Int32, replicas: [UInt64]) async throws -> ReplicatedSegment {
        let leaderID = replicas[0]
        for follower in replicas.dropFirst() {
            _ = try await store(follower).open(
                shard: "s", segmentID: segmentID, baseOffset: base, epoch: epoch, role: .follower(leader: leaderID),
                settings: ShardSettings(durability: .everyBatch))
        }
        return try await store(leaderID).open(
            shard: "s", segmentID: segmentID, baseOffset: base, epoch: epoch, role: .leader(followers: Array(replicas.dropFirst())),
            settings: ShardSettings(durability: .everyBatch)
        ) { configuration in
            var configuration = configuration
            configuration.retransmitTicks = 2
            configuration.heartbeatTicks = 2
            return configuration
        }
    }

    func shutdown() async {
        for id in fixtures.keys { await stop(id) }
        for client in clients.withLock({ Array($0.values) }) { await client.shutdown() }
        for fixture in fixtures.values {
            try? await fixture.threadPool.shutdownGracefully()
            try? FileManager.default.removeItem(atPath: fixture.dataDirectory)
        }
    }
}

@Suite("Segment replication driver over loopback RPC", .serialized)
struct ReplicationDriverTests {
    typealias S = ShardTestStore

    static func batch(_ tag: String, _ count: Int = 2) -> [Record] {
        (0..<count).map { S.record("k", "\(tag)-\($0)") }
    }

    static func waitUntil(seconds: Double = 20, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met in \(seconds)s")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test("quorum appends are acknowledged once durable on two of three; every replica converges; readers stop at the HW")
    func quorum() async throws {
        try await ReplicationTestNodes.with { nodes in
            let leader = try await nodes.openSegment(0, base: 100, epoch: 1, replicas: [1, 2, 3])
            var acknowledged: [JournalAppendResponse] = []
            for index in 0..<10 {
                acknowledged.append(try await leader.append(records: Self.batch("q\(index)"), policy: .quorum).get())
                // Acknowledged means durable on a majority, leader included.
                let ends = try [1, 2, 3].map { try nodes.store($0).replica(shard: "s", segmentID: 0)?.log.logEndOffset ?? 0 }
                #expect(ends.filter { $0 > acknowledged.last!.lastOffset }.count >= 2, "log ends \(ends)")
            }
            #expect(acknowledged.first?.baseOffset == 100 && acknowledged.last?.lastOffset == 119)
            #expect(try await leader.highWatermark.get() == 120)
            let read = try await leader.read(from: 100, maxBytes: 1 << 20).get()
            #expect(read.records.map(\.offset) == Array(100..<120) && read.endOffset == 120)
            // Followers learn the HW from later pushes/heartbeats and hold the same bytes.
            for id: UInt64 in [2, 3] {
                let replica = try #require(try nodes.store(id).replica(shard: "s", segmentID: 0))
                try await Self.waitUntil { try await replica.highWatermark.get() == 120 }
                let copy = try await replica.read(from: 110, maxBytes: 1 << 20).get()
                #expect(S.values(copy.records) == S.values(Array(read.records[10...])))
            }
            await #expect { _ = try await leader.read(from: 121, maxBytes: 100).get() } throws: { error in
                (error as? RPCError)?.code == .failedPrecondition
            }
        }
    }

    @Test("a dead follower: quorum goes on, `all` waits; restarted, it catches up from its log end and `all` completes")
    func followerCatchUp() async throws {
        try await ReplicationTestNodes.with { nodes in
            let leader = try await nodes.openSegment(0, base: 0, epoch: 1, replicas: [1, 2, 3])
            _ = try await leader.append(records: Self.batch("a"), policy: .all).get()
            await nodes.stop(3)
            let waiting = leader.append(records: Self.batch("all"), policy: .all)
            let completed = JournalClusterClientTests.LockedBox(false)
            waiting.whenComplete { _ in completed.withLock { $0 = true } }
            for index in 0..<5 { _ = try await leader.append(records: Self.batch("b\(index)"), policy: .quorum).get() }
            #expect(completed.withLock { $0 } == false, "an `all` append cannot complete while a replica is down")
            #expect(try await leader.highWatermark.get() == 14)

            // Node 3 restarts: a new process state over the same files, at a new address.
            try await nodes.start(3)
            let follower = try await nodes.store(3).open(
                shard: "s", segmentID: 0, baseOffset: 0, epoch: 1, role: .follower(leader: 1), settings: ShardSettings(durability: .everyBatch))
            #expect(follower.log.logEndOffset == 2, "it kept what it had made durable")
            let all = try await waiting.get()
            #expect(all.baseOffset == 2 && all.lastOffset == 3)
            try await Self.waitUntil { follower.log.logEndOffset == 14 }
            let copy = try await follower.log.read(from: 0, maxBytes: 1 << 20).get()
            let original = try await leader.log.read(from: 0, maxBytes: 1 << 20).get()
            #expect(copy.bytes == original.bytes, "the follower's log is byte-identical to the leader's")
        }
    }

    @Test("sealing fences the stale leader; the seal offset keeps every acknowledged record; the next segment takes appends")
    func fencing() async throws {
        try await ReplicationTestNodes.with { nodes in
            let old = try await nodes.openSegment(0, base: 0, epoch: 1, replicas: [1, 2, 3])
            var lastAcknowledged: Int64 = -1
            for index in 0..<6 { lastAcknowledged = try await old.append(records: Self.batch("e\(index)"), policy: .quorum).get().lastOffset }

            // Meta: node 1 is presumed dead; fence the survivors at epoch 2 and collect their ends.
            guard let request = SegmentSealPlanner.sealRequest(segmentID: 0, currentEpoch: 1) else { throw CancellationError() }
            var reports: [UInt64: Int64] = [:]
            for id: UInt64 in [2, 3] {
                let client = try #require(nodes.clients.withLock { $0[id] })
                let reply = try await client.call(
                    JournalReplicationAPI.seal, JournalReplicateRequest(shard: "s", message: .sealRequest(request)))
                guard case .sealResponse(let response) = reply else { throw CancellationError() }
                #expect(response.epoch == 2)
                reports[id] = response.durableEnd
            }
            guard case .seal(let plan) = SegmentSealPlanner(replicas: [1, 2, 3]).plan(reports: reports) else {
                Issue.record("no seal plan from \(reports)")
                return
            }
            #expect(plan.sealOffset > lastAcknowledged, "the seal keeps every acknowledged record")

            // The stale leader's next append reaches fenced followers and fails: not acknowledged.
            await #expect { _ = try await old.append(records: Self.batch("stale"), policy: .quorum).get() } throws: { error in
                (error as? RPCError)?.code == .notLeader
            }
            #expect(try await old.isLeading.get() == false)

            let next = try await nodes.openSegment(1, base: plan.sealOffset, epoch: 3, replicas: [2, 3, 1])
            let appended = try await next.append(records: Self.batch("n"), policy: .quorum).get()
            #expect(appended.baseOffset == plan.sealOffset)
            let read = try await next.read(from: plan.sealOffset, maxBytes: 1 << 20).get()
            #expect(S.values(read.records) == ["n-0", "n-1"])
        }
    }
}
