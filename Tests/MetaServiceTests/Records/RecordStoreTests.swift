import Shared
import Testing

@testable import MetaService

/// The typed stores against a real 3-voter in-process meta cluster.
@Suite("Typed record stores", .serialized)
struct RecordStoreTests {
    @Test func topicsAreCreatedOnceListedAndOnlyGrow() async throws {
        let cluster = try MetaTestCluster()
        _ = try await cluster.awaitLeader()
        let topics = TopicStore(client: cluster.client())
        let orders = TopicRecord(tenant: "acme", name: "orders", createdAtMillis: 10, shardCount: 4, settings: .init(replicationFactor: 3))
        try await topics.create(orders)
        await #expect(throws: MetaRecordError.alreadyExists(key: "/topics/acme/orders")) {
            try await topics.create(TopicRecord(tenant: "acme", name: "orders", createdAtMillis: 11, shardCount: 1))
        }
        try await topics.create(TopicRecord(tenant: "other", name: "orders", createdAtMillis: 12, shardCount: 1))
        await #expect(throws: MetaRecordError.self) {
            try await topics.create(TopicRecord(tenant: "acme", name: "bad name", createdAtMillis: 0, shardCount: 1))
        }
        #expect(try await topics.get(tenant: "acme", name: "orders") == orders)
        #expect(try await topics.list(tenant: "acme").map(\.name) == ["orders"])
        #expect(try await topics.list().map(\.tenant) == ["acme", "other"])
        let grown = try await topics.setShardCount(tenant: "acme", name: "orders", to: 8)
        #expect(grown.shardCount == 8 && grown.settings.replicationFactor == 3)
        await #expect(throws: MetaRecordError.self) { try await topics.setShardCount(tenant: "acme", name: "orders", to: 2) }
        #expect(try await topics.get(tenant: "acme", name: "orders")?.shardCount == 8)
        // Concurrent updates are all applied (compare-and-set, no lost update).
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<6 {
                group.addTask {
                    try await topics.update(tenant: "acme", name: "orders") { $0.settings.extra["k\(index)"] = "v" }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await topics.get(tenant: "acme", name: "orders")?.settings.extra.count == 6)
        #expect(try await topics.delete(tenant: "acme", name: "orders"))
        #expect(try await !topics.delete(tenant: "acme", name: "orders"))
        await #expect(throws: MetaRecordError.notFound(key: "/topics/acme/orders")) {
            try await topics.setShardCount(tenant: "acme", name: "orders", to: 9)
        }
        await cluster.shutdown()
    }

    @Test func offsetCommitsAreFencedByGenerationAndMember() async throws {
        let cluster = try MetaTestCluster()
        _ = try await cluster.awaitLeader()
        let store = ConsumerOffsetStore(client: cluster.client())
        let p0 = TopicPartition(topic: "orders", partition: 0)
        let p1 = TopicPartition(topic: "orders", partition: 1)
        func at(_ offset: Int64) -> CommittedOffset { CommittedOffset(offset: offset, committedAtMillis: 1) }

        // A consumer outside group management commits into an empty group.
        try await store.commit(tenant: "acme", group: "billing", generation: -1, memberID: "", offsets: [p0: at(5)])
        #expect(try await store.offsets(tenant: "acme", group: "billing")[p0]?.offset == 5)

        let first = try await store.startGeneration(tenant: "acme", group: "billing", members: ["m1", "m2"])
        #expect(first == 1)
        try await store.commit(tenant: "acme", group: "billing", generation: 1, memberID: "m1", offsets: [p0: at(10)])
        // Once the group has members, a commit without a generation is refused.
        await #expect(throws: MetaRecordError.illegalGeneration(group: "billing", given: -1, current: 1)) {
            try await store.commit(tenant: "acme", group: "billing", generation: -1, memberID: "", offsets: [p0: at(0)])
        }
        await #expect(throws: MetaRecordError.unknownMember(group: "billing", memberID: "m9")) {
            try await store.commit(tenant: "acme", group: "billing", generation: 1, memberID: "m9", offsets: [p0: at(0)])
        }
        // A rebalance: generation 2 without m2. m1's late commit of generation 1 is fenced.
        let second = try await store.startGeneration(tenant: "acme", group: "billing", members: ["m1", "m3"])
        #expect(second == 2)
        await #expect(throws: MetaRecordError.illegalGeneration(group: "billing", given: 1, current: 2)) {
            try await store.commit(tenant: "acme", group: "billing", generation: 1, memberID: "m1", offsets: [p0: at(99)])
        }
        await #expect(throws: MetaRecordError.unknownMember(group: "billing", memberID: "m2")) {
            try await store.commit(tenant: "acme", group: "billing", generation: 2, memberID: "m2", offsets: [p0: at(99)])
        }
        #expect(try await store.offsets(tenant: "acme", group: "billing")[p0]?.offset == 10, "no fenced commit was applied")

        // Members of the current generation commit concurrently: every commit lands (no lost update).
        try await withThrowingTaskGroup(of: Void.self) { group in
            for partition in 0..<8 {
                group.addTask {
                    try await store.commit(tenant: "acme", group: "billing", generation: 2, memberID: partition % 2 == 0 ? "m1" : "m3",
                                           offsets: [TopicPartition(topic: "events", partition: Int32(partition)): at(Int64(100 + partition))])
                }
            }
            try await group.waitForAll()
        }
        let offsets = try await store.offsets(tenant: "acme", group: "billing")
        #expect((0..<8).allSatisfy { offsets[TopicPartition(topic: "events", partition: Int32($0))]?.offset == Int64(100 + $0) })
        #expect(offsets[p1] == nil)
        let record = try #require(try await store.group(tenant: "acme", group: "billing"))
        #expect(record.generation == 2 && record.members == ["m1", "m3"])

        // Bad input is refused before anything is written.
        await #expect(throws: MetaRecordError.self) {
            try await store.commit(tenant: "acme", group: "billing", generation: 2, memberID: "m1", offsets: [TopicPartition(topic: "x", partition: -1): at(1)])
        }
        await #expect(throws: MetaRecordError.self) {
            try await store.commit(tenant: "acme", group: "bad/group", generation: -1, memberID: "", offsets: [p0: at(1)])
        }
        #expect(try await store.deleteGroup(tenant: "acme", group: "billing"))
        #expect(try await store.group(tenant: "acme", group: "billing") == nil)
        await cluster.shutdown()
    }
}
