import MetaService
import PropertyBased
import Testing

@testable import JournalServer

@Suite("SegmentPlacementPlanner and JournalClusterView")
struct SegmentPlacementPlannerTests {
    static func shard(_ segments: [ShardMetadata.Segment]) -> ShardMetadata {
        ShardMetadata(replicationFactor: 3, segments: segments)
    }

    static func kv(_ key: String, _ value: [UInt8]) -> MetaKeyValue {
        MetaKeyValue(key: key, value: value, createRevision: 1, modRevision: 1, version: 1, lease: 0)
    }

    @Test("least loaded live nodes first, ties by lower id; sealed segments and dead nodes do not count")
    func leastLoaded() {
        let shards = [
            Self.shard([
                .init(baseOffset: 0, replicas: [1, 2, 3], leader: 1, epoch: 1, sealed: true),
                .init(baseOffset: 10, replicas: [1, 2, 9], leader: 1, epoch: 2),
            ]),
            Self.shard([.init(baseOffset: 0, replicas: [1, 4], leader: 4, epoch: 1)]),
        ]
        let planner = SegmentPlacementPlanner(liveNodes: [1, 2, 3, 4, 5], shards: shards)
        #expect(planner.load == [1: 2, 2: 1, 3: 0, 4: 1, 5: 0])
        #expect(planner.place(replicationFactor: 3) == [3, 5, 2])
        #expect(planner.place(replicationFactor: 3, excluding: [3]) == [5, 2, 4])
        #expect(planner.place(replicationFactor: 9) == [3, 5, 2, 4, 1])
        #expect(SegmentPlacementPlanner(liveNodes: [], shards: shards).place(replicationFactor: 3).isEmpty)
        var rolling = planner
        rolling.assign([3, 5])
        #expect(rolling.place(replicationFactor: 2) == [2, 3])
    }

    @Test("placements are distinct live nodes, as many as asked when enough are live, never more loaded than a skipped one")
    func properties() async {
        await propertyCheck(input: Gen.int(in: 1...6), Gen.int(in: 0...6), Gen.int(in: 0...40)) { nodes, factor, seed in
            var generator = Xorshift(seed: UInt64(seed) &+ 1)
            let live = Set((1...UInt64(nodes)))
            let shards = (0..<Int(generator.next() % 6)).map { _ in
                Self.shard([.init(baseOffset: 0, replicas: [generator.next() % 8 + 1, generator.next() % 8 + 1], leader: 1, epoch: 1)])
            }
            let planner = SegmentPlacementPlanner(liveNodes: live, shards: shards)
            let placed = planner.place(replicationFactor: factor)
            #expect(Set(placed).count == placed.count)
            #expect(placed.count == min(factor, nodes))
            #expect(Set(placed).isSubset(of: live))
            let maxPlaced = placed.map { planner.load[$0] ?? 0 }.max() ?? 0
            for skipped in live.subtracting(placed) { #expect((planner.load[skipped] ?? 0) >= maxPlaced) }
            #expect(planner.place(replicationFactor: factor) == placed, "deterministic")
        }
    }

    @Test("the view follows puts and deletes of shard records and node registrations; targets follow the segments")
    func view() throws {
        var view = JournalClusterView()
        let record = Self.shard([
            .init(baseOffset: 0, replicas: [1, 2, 3], leader: 2, epoch: 1, sealed: true),
            .init(baseOffset: 100, replicas: [3, 4, 5], leader: 4, epoch: 2),
        ])
        view.replace(prefix: ShardMetadata.keyPrefix, with: [Self.kv("/journal/shards/s", record.encodedBytes)])
        view.apply(WatchEvent(kind: .put, keyValue: Self.kv("/nodes/journal/4", Array("h:1".utf8)), previous: nil))
        view.apply(WatchEvent(kind: .put, keyValue: Self.kv("/journal/shards/bad", [9, 9]), previous: nil))
        #expect(view.shards["s"] == record && view.shards["bad"] == nil)
        #expect(view.nodes == [4: "h:1"])
        #expect(view.appendTargets(shard: "s") == [4])
        #expect(view.readTargets(shard: "s", offset: 5) == [2, 1, 3])
        #expect(view.readTargets(shard: "s", offset: 100) == [4, 3, 5])
        #expect(view.readTargets(shard: "s", offset: nil) == [4, 3, 5])
        view.apply(WatchEvent(kind: .delete, keyValue: Self.kv("/nodes/journal/4", []), previous: nil))
        #expect(view.nodes.isEmpty)
        var sealed = record
        sealed.segments[1].sealed = true
        view.apply(WatchEvent(kind: .put, keyValue: Self.kv("/journal/shards/s", sealed.encodedBytes), previous: nil))
        #expect(view.appendTargets(shard: "s").isEmpty, "no active segment while the next one is being opened")
        view.apply(WatchEvent(kind: .delete, keyValue: Self.kv("/journal/shards/s", []), previous: nil))
        #expect(view.shards.isEmpty && view.readTargets(shard: "s", offset: 0).isEmpty)
    }
}

/// A tiny deterministic generator for the property test's shard records.
struct Xorshift {
    var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9 : seed }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}
