import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import JournalServer
@testable import Shared

@Suite("ShardStore: shards over segment logs", .serialized)
struct ShardStoreTests {
    typealias S = ShardTestStore

    @Test("create is idempotent with the same settings and refuses different ones")
    func createIdempotent() async throws {
        try await S.with { fixture in
            let store = try await fixture.open()
            let first = try await store.create(shard: "orders").get()
            #expect(first.name == "orders" && first.startOffset == 0 && first.endOffset == 0 && first.state == .active)
            let again = try await store.create(shard: "orders").get()
            #expect(again.settings == first.settings)
            await #expect(throws: ShardStoreError.shardExists("orders", existing: ShardSettings())) {
                try await store.create(shard: "orders", settings: ShardSettings(durability: .everyBatch)).get()
            }
            #expect(store.list() == ["orders"])
            try await store.close().get()
        }
    }

    @Test("shard names are validated", arguments: ["", ".", "..", "a/b", "a b", "ü", String(repeating: "x", count: 201)])
    func invalidNames(name: String) async throws {
        try await S.with { fixture in
            let store = try await fixture.open()
            await #expect(throws: ShardStoreError.invalidShardName(name)) { try await store.create(shard: name).get() }
            try await store.close().get()
        }
    }

    @Test("appends are acknowledged with offsets and read back; unknown shards fail clearly")
    func appendAndRead() async throws {
        try await S.with { fixture in
            let store = try await fixture.open()
            _ = try await store.create(shard: "s1").get()
            let first = try await store.append(shard: "s1", records: [S.record("a", "1"), S.record("b", "2")]).get()
            let second = try await store.append(shard: "s1", records: [S.record("c", "3", timestamp: 5_000)]).get()
            #expect(first.baseOffset == 0 && first.lastOffset == 1 && second.baseOffset == 2 && second.lastOffset == 2)
            let all = try await store.read(shard: "s1", from: 0, maxBytes: 1 << 20).get()
            #expect(S.values(all.records) == ["1", "2", "3"])
            #expect(all.records.map(\.offset) == [0, 1, 2] && all.nextOffset == 3 && all.endOffset == 3)
            #expect(all.records[0].headers == [RecordHeader(key: "h", value: ByteBuffer(string: "1"))])
            let middle = try await store.read(shard: "s1", from: 1, maxBytes: 1).get()
            #expect(S.values(middle.records) == ["2"] && middle.nextOffset == 2)
            let end = try await store.read(shard: "s1", from: 3, maxBytes: 1 << 20).get()
            #expect(end.records.isEmpty && end.nextOffset == 3)
            await #expect(throws: ShardStoreError.offsetOutOfRange(shard: "s1", requested: 4, start: 0, end: 3)) {
                try await store.read(shard: "s1", from: 4, maxBytes: 100).get()
            }
            #expect(try await store.offset(shard: "s1", forTimestamp: 2_000).get() == 2)
            #expect(try await store.offset(shard: "s1", forTimestamp: 9_000).get() == nil)
            await #expect(throws: ShardStoreError.shardNotFound("nope")) {
                try await store.append(shard: "nope", records: [S.record("a", "1")]).get()
            }
            await #expect(throws: ShardStoreError.invalidRecords("no records")) {
                try await store.append(shard: "s1", records: []).get()
            }
            try await store.close().get()
        }
    }

    @Test("acknowledged records survive closing and reopening the store; describe lists segments")
    func restart() async throws {
        try await S.with { fixture in
            let settings = ShardSettings(durability: .interval(milliseconds: 5), maxSegmentBytes: 4096)
            do {
                let store = try await fixture.open()
                _ = try await store.create(shard: "keep", settings: settings).get()
                _ = try await store.create(shard: "other").get()
                let payload = String(repeating: "v", count: 1000)
                var acks: [EventLoopFuture<AppendResult>] = []
                for index in 0..<20 {
                    acks.append(store.append(shard: "keep", records: [S.record("k", "\(index)-" + payload)]))
                }
                for ack in acks { _ = try await ack.get() }
                try await store.close().get()
            }
            let store = try await fixture.open()
            #expect(store.list() == ["keep", "other"])
            let description = try await store.describe(shard: "keep").get()
            #expect(description.settings == settings)
            #expect(description.endOffset == 20 && description.startOffset == 0)
            #expect(description.segments.count > 1)
            #expect(description.segments.first?.baseOffset == 0)
            #expect(description.segments.allSatisfy { $0.sizeInBytes > 0 })
            var offset: Int64 = 0
            var values: [String] = []
            while offset < 20 {
                let read = try await store.read(shard: "keep", from: offset, maxBytes: 1 << 16).get()
                values += S.values(read.records).map { String($0.prefix { $0 != "-" }) }
                offset = read.nextOffset
            }
            #expect(values == (0..<20).map(String.init))
            let next = try await store.append(shard: "keep", records: [S.record("k", "after")]).get()
            #expect(next.baseOffset == 20)
            try await store.close().get()
        }
    }

    @Test("delete removes the shard and its files; the name can be created again")
    func delete() async throws {
        try await S.with { fixture in
            let store = try await fixture.open()
            _ = try await store.create(shard: "gone").get()
            _ = try await store.append(shard: "gone", records: [S.record("a", "1")]).get()
            try await store.delete(shard: "gone").get()
            #expect(store.list().isEmpty)
            #expect(!FileManager.default.fileExists(atPath: store.directory + "/gone"))
            await #expect(throws: ShardStoreError.shardNotFound("gone")) { try await store.describe(shard: "gone").get() }
            await #expect(throws: ShardStoreError.shardNotFound("gone")) { try await store.delete(shard: "gone").get() }
            let fresh = try await store.create(shard: "gone").get()
            #expect(fresh.endOffset == 0)
            try await store.close().get()
        }
    }

    @Test("a tail replays from its offset, then delivers new durable batches matching its filter")
    func tailReplayAndLive() async throws {
        try await S.with { fixture in
            let store = try await fixture.open(tailReadBytes: 64)
            _ = try await store.create(shard: "t").get()
            for index in 0..<10 {
                let topic = index % 2 == 0 ? "sensors/\(index)/temp" : "other/\(index)"
                _ = try await store.append(shard: "t", records: [S.record(topic, "\(index)")]).get()
            }
            let collector = TailCollector()
            let filter = try TopicFilterSet(["sensors/+/temp"])
            let tail = try store.subscribe(shard: "t", from: 3, filter: filter, handler: collector.handler())
            try await collector.wait { S.values($0) == ["4", "6", "8"] }
            _ = try await store.append(shard: "t", records: [S.record("sensors/x/temp", "10"), S.record("other", "11")]).get()
            _ = try await store.append(shard: "t", records: [S.record("sensors/y/temp", "12")]).get()
            try await collector.wait { S.values($0) == ["4", "6", "8", "10", "12"] }
            #expect(collector.records.map(\.offset) == [4, 6, 8, 10, 12])

            let everything = TailCollector()
            let live = try store.subscribe(shard: "t", from: nil, handler: everything.handler())
            // A tail from the end sees only what becomes durable after it started.
            _ = try await store.append(shard: "t", records: [S.record("z", "13")]).get()
            try await everything.wait { S.values($0) == ["13"] }
            tail.cancel()
            live.cancel()
            try await tail.completion.get()
            try await live.completion.get()
            try await store.close().get()
        }
    }

    @Test("a tail waits for its handler (back-pressure) and still delivers every record in order")
    func tailBackPressure() async throws {
        try await S.with { fixture in
            let store = try await fixture.open(tailReadBytes: 128)
            _ = try await store.create(shard: "bp").get()
            let loop = MultiThreadedEventLoopGroup.singleton.any()
            let collector = TailCollector()
            let tail = try store.subscribe(shard: "bp", from: 0) { batch in
                // A slow consumer: each batch completes a few milliseconds later.
                loop.scheduleTask(in: .milliseconds(2)) {}.futureResult.map {
                    _ = collector.handler()(batch)
                }
            }
            var acks: [EventLoopFuture<AppendResult>] = []
            for index in 0..<200 {
                acks.append(store.append(shard: "bp", records: [S.record("k", "\(index)")]))
            }
            for ack in acks { _ = try await ack.get() }
            try await collector.wait(seconds: 30) { $0.count == 200 }
            #expect(collector.records.map(\.offset) == (0..<200).map(Int64.init))
            tail.cancel()
            try await tail.completion.get()
            try await store.close().get()
        }
    }

    @Test("deleting a shard ends its tails with shardDeleted; unknown shards cannot be tailed")
    func tailEndsOnDelete() async throws {
        try await S.with { fixture in
            let store = try await fixture.open()
            _ = try await store.create(shard: "d").get()
            let tail = try store.subscribe(shard: "d", from: 0, handler: TailCollector().handler())
            try await store.delete(shard: "d").get()
            await #expect(throws: ShardStoreError.shardDeleted("d")) { try await tail.completion.get() }
            #expect(throws: ShardStoreError.shardNotFound("d")) {
                _ = try store.subscribe(shard: "d", from: 0, handler: TailCollector().handler())
            }
            try await store.close().get()
        }
    }
}
