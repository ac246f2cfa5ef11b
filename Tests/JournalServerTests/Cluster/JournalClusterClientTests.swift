import Foundation
import MetaService
import NIOCore
import Synchronization
import Testing

@testable import JournalServer
@testable import Shared

@Suite("JournalClusterClient over meta and loopback journal nodes", .serialized)
struct JournalClusterClientTests {
    typealias S = ShardTestStore

    static func records(_ prefix: String, _ count: Int) -> [Record] {
        (0..<count).map { S.record("sensors/\($0 % 3)", "\(prefix)-\($0)") }
    }

    @Test("shards are placed on the least loaded nodes; append, read, tail and describe go to the right node")
    func placementAndRouting() async throws {
        try await JournalTestCluster.with(nodes: 3) { cluster in
            let client = cluster.client()
            var leaders: [UInt64] = []
            for name in ["a", "b", "c"] {
                let created = try await client.createShard(name)
                let record = try #require(created.catalog)
                leaders.append(try #require(record.activeSegment?.leader))
            }
            #expect(Set(leaders) == [1, 2, 3], "one shard per node: \(leaders)")
            // Creating again is idempotent and answered by the shard's node.
            #expect(try await client.createShard("a").catalog?.activeSegment?.leader == leaders[0])
            #expect(try await client.listShards() == ["a", "b", "c"])

            let first = try await client.append(shard: "b", records: Self.records("x", 4))
            #expect(first.baseOffset == 0 && first.lastOffset == 3)
            let second = try await client.appendFuture(shard: "b", records: Self.records("y", 2)).get()
            #expect(second.baseOffset == 4 && second.lastOffset == 5)
            // The records are on the leader's own store and nowhere else.
            let leaderStore = try cluster.store(leaders[1])
            #expect(try await leaderStore.read(shard: "b", from: 0, maxBytes: 1 << 20).get().records.count == 6)
            for other in [UInt64(1), 2, 3] where other != leaders[1] {
                #expect(try cluster.store(other).list().contains("b") == false)
            }

            let read = try await client.read(shard: "b", from: 2)
            #expect(S.values(read.records.filter { $0.offset >= 2 }) == ["x-2", "x-3", "y-0", "y-1"])
            #expect(read.endOffset == 6)
            #expect(try await client.describeShard("b").endOffset == 6)

            var tailed: [String] = []
            for try await batch in client.tail(shard: "b", from: 1) {
                tailed += S.values(batch.records.filter { $0.offset >= 1 })
                if tailed.count >= 5 { break }
            }
            #expect(tailed == ["x-1", "x-2", "x-3", "y-0", "y-1"])
            await client.close()
        }
    }

    @Test("an unknown shard fails with notFound at once; a deleted one disappears from the view")
    func unknownShard() async throws {
        try await JournalTestCluster.with(nodes: 1) { cluster in
            let client = cluster.client(timeout: .seconds(30))
            let started = ContinuousClock.now
            await #expect { _ = try await client.append(shard: "nope", records: Self.records("z", 1)) } throws: { error in
                (error as? RPCError)?.code == .notFound && "\(error)".contains("unknown shard 'nope'")
            }
            #expect(ContinuousClock.now - started < .seconds(10))
            _ = try await client.createShard("gone")
            try await client.deleteShard("gone")
            await #expect { _ = try await client.read(shard: "gone", from: 0) } throws: { error in
                (error as? RPCError)?.code == .notFound
            }
            await client.close()
        }
    }

    @Test("an append to a shard without a placed segment waits for the placement, then goes to its leader")
    func pendingShard() async throws {
        try await JournalTestCluster.with(nodes: 2) { cluster in
            let client = cluster.client()
            let key = ShardMetadata.key(shard: "p")
            _ = try await cluster.meta.put(key, ShardMetadata(replicationFactor: 1, segments: []).encodedBytes)
            let append = Task { try await client.append(shard: "p", records: Self.records("p", 3)) }
            // Wait until the client has seen the pending record, so the append is really waiting.
            let deadline = ContinuousClock.now + .seconds(10)
            while client.view.shards["p"] == nil {
                #expect(ContinuousClock.now < deadline)
                if ContinuousClock.now >= deadline { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            // Node 2 opens the replica, then the placement is recorded (as the controller does).
            _ = try await cluster.store(2).create(shard: "p", settings: ShardSettings()).get()
            let placed = ShardMetadata(replicationFactor: 1, segments: [.init(baseOffset: 0, replicas: [2], leader: 2, epoch: 1)])
            _ = try await cluster.meta.put(key, placed.encodedBytes)
            let response = try await append.value
            #expect(response.baseOffset == 0 && response.lastOffset == 2)
            #expect(try await cluster.store(2).read(shard: "p", from: 0, maxBytes: 1 << 20).get().records.count == 3)
            await client.close()
        }
    }

    @Test("a node that restarts at a new address: appends retry until it is back, a running tail resumes without gaps")
    func nodeRestart() async throws {
        try await JournalTestCluster.with(nodes: 1) { cluster in
            let client = cluster.client(timeout: .seconds(30))
            _ = try await client.createShard("r", settings: ShardSettings(durability: .everyBatch))
            _ = try await client.append(shard: "r", records: Self.records("a", 3))
            let collected = LockedBox<[Record]>([])
            let tail = Task {
                for try await batch in client.tail(shard: "r", from: 0) {
                    collected.withLock { $0 += batch.records }
                }
            }
            try await waitUntil { collected.withLock { $0.count } >= 3 }
            let oldAddress = try #require(client.view.nodes[1])

            try await cluster.stopNode(1)
            let append = Task { try await client.append(shard: "r", records: Self.records("b", 2)) }
            try await cluster.startNode(1)
            let response = try await append.value
            #expect(response.baseOffset == 3 && response.lastOffset == 4)
            try await waitUntil { client.view.nodes[1] != nil && client.view.nodes[1] != oldAddress }
            try await waitUntil { collected.withLock { $0.count } >= 5 }
            tail.cancel()
            _ = await tail.result
            let offsets = collected.withLock { $0.map(\.offset) }
            #expect(offsets == [0, 1, 2, 3, 4], "every offset once, in order: \(offsets)")
            #expect(S.values(collected.withLock { $0 }) == ["a-0", "a-1", "a-2", "b-0", "b-1"])
            await client.close()
        }
    }

    /// A value shared with escaping closures.
    final class LockedBox<Value: Sendable>: Sendable {
        let value: Mutex<Value>
        init(_ value: Value) { self.value = Mutex(value) }
        func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T { value.withLock { body(&$0) } }
    }

    func waitUntil(seconds: Double = 20, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met in \(seconds)s")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
