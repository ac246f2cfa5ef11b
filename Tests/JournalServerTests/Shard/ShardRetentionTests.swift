import Foundation
import MetricsTestKit
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import JournalServer
@testable import Shared

@Suite("ShardStore retention, the durable end, encoded batches, metrics", .serialized)
struct ShardRetentionTests {
    typealias S = ShardTestStore

    @Test("retention removes old sealed segments; reads before the start fail, tails start at the first stored record")
    func retention() async throws {
        try await S.with { fixture in
            let store = try await fixture.open()
            // Records stamped in 1970 are far past a one-hour retention.
            let settings = ShardSettings(maxSegmentBytes: 4096, maxSegmentAgeMilliseconds: nil, retentionMilliseconds: 3_600_000)
            _ = try await store.create(shard: "old", settings: settings).get()
            _ = try await store.create(shard: "fresh").get()
            let payload = String(repeating: "x", count: 1000)
            for index in 0..<12 {
                _ = try await store.append(shard: "old", records: [S.record("k", "\(index)-" + payload, timestamp: 1_000)]).get()
            }
            let before = try await store.describe(shard: "old").get()
            #expect(before.segments.count > 2)
            let deleted = try await store.enforceRetention().get()
            #expect(Set(deleted.keys) == ["old"])
            let after = try await store.describe(shard: "old").get()
            // Every sealed segment goes; the active one stays.
            #expect(after.segments.count == 1 && after.startOffset == after.segments.first?.baseOffset)
            #expect(after.startOffset > 0 && after.endOffset == 12)
            await #expect(throws: ShardStoreError.offsetOutOfRange(shard: "old", requested: 0, start: after.startOffset, end: 12)) {
                try await store.read(shard: "old", from: 0, maxBytes: 1 << 20).get()
            }
            let collector = TailCollector()
            let tail = try store.subscribe(shard: "old", from: 0, handler: collector.handler())
            try await collector.wait { $0.last?.offset == 11 }
            #expect(collector.records.first?.offset == after.startOffset)
            tail.cancel()
            try await store.close().get()
        }
    }

    @Test("nothing is readable or tailed before its append is acknowledged (group commit)")
    func durableEnd() async throws {
        try await S.with { fixture in
            let store = try await fixture.open()
            // A long group-commit interval: the append waits for its fsync that long.
            _ = try await store.create(shard: "slow", settings: ShardSettings(durability: .interval(milliseconds: 1_500))).get()
            let collector = TailCollector()
            let tail = try store.subscribe(shard: "slow", from: 0, handler: collector.handler())
            let acknowledged = ManagedFlag()
            let ack = store.append(shard: "slow", records: [S.record("k", "v")])
            ack.whenSuccess { _ in acknowledged.set() }
            // Whatever a read or the tail shows now must already be acknowledged.
            let read = try await store.read(shard: "slow", from: 0, maxBytes: 1 << 20).get()
            let seen = collector.records.count
            if !acknowledged.value {
                #expect(read.records.isEmpty && read.endOffset == 0)
                #expect(seen == 0)
            }
            _ = try await ack.get()
            try await collector.wait { S.values($0) == ["v"] }
            let after = try await store.read(shard: "slow", from: 0, maxBytes: 1 << 20).get()
            #expect(S.values(after.records) == ["v"] && after.endOffset == 1)
            tail.cancel()
            try await store.close().get()
        }
    }
}

extension ShardRetentionTests {
    @Test("acknowledged and tailed records and running tails are counted per shard")
    func metrics() async throws {
        try await S.with { fixture in
            let metrics = TestMetrics()
            let store = try await fixture.open(metrics: metrics)
            _ = try await store.create(shard: "m").get()
            let collector = TailCollector()
            let tail = try store.subscribe(shard: "m", from: 0, handler: collector.handler())
            _ = try await store.append(shard: "m", records: [S.record("a", "1"), S.record("b", "2")]).get()
            _ = try await store.append(shard: "m", records: [S.record("c", "3")]).get()
            try await collector.wait { $0.count == 3 }
            let appended = try metrics.expectCounter("tributary_journal_appended_records_total", [("shard", "m")])
            #expect(appended.totalValue == 3)
            let tailed = try metrics.expectCounter("tributary_journal_tailed_records_total", [("shard", "m")])
            #expect(tailed.totalValue == 3)
            let acks = try metrics.expectTimer("tributary_journal_append_ack_seconds", [("shard", "m")])
            #expect(acks.values.count == 2)
            let tails = try metrics.expectGauge("tributary_journal_tails", [("shard", "m")])
            #expect(tails.lastValue == 1)
            tail.cancel()
            try await tail.completion.get()
            #expect(tails.lastValue == 0)
            try await store.close().get()
        }
    }
}

extension ShardRetentionTests {
    @Test("an encoded record batch is appended with assigned offsets, read and tailed; a corrupt one is refused")
    func encodedBatch() async throws {
        try await S.with { fixture in
            let store = try await fixture.open()
            _ = try await store.create(shard: "k").get()
            _ = try await store.append(shard: "k", records: [S.record("t/0", "0")]).get()
            let collector = TailCollector()
            let tail = try store.subscribe(shard: "k", from: 0, filter: try TopicFilterSet(["t/+"]), handler: collector.handler())
            // A producer's batch numbered from 0: the shard renumbers it at its end.
            let batch = try RecordBatch(sequential: [S.record("t/1", "1"), S.record("x", "2"), S.record("t/3", "3")]).encoded()
            let ack = try await store.append(shard: "k", encodedBatch: batch).get()
            #expect(ack.baseOffset == 1 && ack.lastOffset == 3)
            let read = try await store.read(shard: "k", from: 1, maxBytes: 1 << 20).get()
            #expect(read.records.map(\.offset) == [1, 2, 3] && S.values(read.records) == ["1", "2", "3"])
            try await collector.wait { S.values($0) == ["0", "1", "3"] }

            var corrupt = batch
            let last = corrupt.writerIndex - 1
            corrupt.setInteger(corrupt.getInteger(at: last, as: UInt8.self).map { $0 ^ 0xFF } ?? 0, at: last)
            await #expect { try await store.append(shard: "k", encodedBatch: corrupt).get() } throws: { error in
                if case .invalidRecords = error as? ShardStoreError { return true }
                return false
            }
            #expect(try await store.describe(shard: "k").get().endOffset == 4)
            tail.cancel()
            try await store.close().get()
        }
    }
}

/// A flag set once from any thread.
final class ManagedFlag: Sendable {
    private let state = Mutex(false)
    func set() { state.withLock { $0 = true } }
    var value: Bool { state.withLock { $0 } }
}
