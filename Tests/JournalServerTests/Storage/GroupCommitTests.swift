import MetricsTestKit
import NIOCore
import Synchronization
import Testing

@testable import JournalServer

@Suite("Durability policies and group commit")
struct GroupCommitTests {
    typealias Support = StorageTestSupport

    final class Completions: Sendable {
        private let count = Mutex(0)
        var value: Int { count.withLock { $0 } }
        func increment() { count.withLock { $0 += 1 } }
    }

    static func openCounted(_ directory: String, _ durability: DurabilityPolicy) async throws -> (SegmentLog, TestCounter) {
        let metrics = TestMetrics()
        let log = try await Support.openLog(
            directory, SegmentLogConfiguration(maxSegmentAgeMilliseconds: nil, durability: durability),
            metrics: SegmentLogMetrics(factory: metrics))
        return (log, try metrics.expectCounter("tributary_journal_fsyncs_total"))
    }

    @Test func concurrentAppendsCompleteAfterOneSharedFsync() async throws {
        try await Support.withTemporaryDirectory { directory in
            // The timer is far away: only the explicit flush can fsync.
            let (log, fsyncs) = try await Self.openCounted(directory, .interval(milliseconds: 3_600_000))
            let before = fsyncs.totalValue
            let completions = Completions()
            let futures = (0..<25).map { index in
                log.append(RecordBatch(sequential: Support.records(1, prefix: "g\(index)")))
            }
            for future in futures { future.whenSuccess { _ in completions.increment() } }
            try await Support.waitUntil { log.logEndOffset == 25 }
            // Written, but not acknowledged: no fsync has covered them yet.
            #expect(completions.value == 0)
            #expect(fsyncs.totalValue == before)
            _ = try await log.flush().get()
            var offsets: [Int64] = []
            for future in futures { offsets.append(try await future.get().baseOffset) }
            #expect(offsets == (0..<25).map(Int64.init))
            #expect(completions.value == 25)
            #expect(fsyncs.totalValue == before + 1)
        }
    }

    @Test func truncationFailsAppendsStillWaitingForTheirFsync() async throws {
        try await Support.withTemporaryDirectory { directory in
            let (log, _) = try await Self.openCounted(directory, .interval(milliseconds: 3_600_000))
            let futures = (0..<3).map { index in
                log.append(RecordBatch(sequential: Support.records(1, prefix: "w\(index)")))
            }
            try await Support.waitUntil { log.logEndOffset == 3 }
            #expect(try await log.truncate(to: 1).get() == 1)
            for (index, future) in futures.enumerated().dropFirst() {
                await #expect(throws: StorageError.appendTruncated(baseOffset: Int64(index))) { try await future.get() }
            }
            _ = try await log.flush().get()
            #expect(try await futures[0].get().baseOffset == 0)
            #expect(try await Support.readAll(log, from: 0).map(\.value) == [ByteBuffer(string: "w0-0")])
        }
    }

    @Test func intervalTimerCompletesAppendsInCallOrder() async throws {
        try await Support.withTemporaryDirectory { directory in
            let (log, fsyncs) = try await Self.openCounted(directory, .interval(milliseconds: 10))
            let before = fsyncs.totalValue
            let futures = (0..<30).map { index in
                log.append(RecordBatch(sequential: Support.records(2, prefix: "t\(index)")))
            }
            var offsets: [Int64] = []
            for future in futures { offsets.append(try await future.get().baseOffset) }
            #expect(offsets == (0..<30).map { Int64($0 * 2) })
            #expect(fsyncs.totalValue > before)
            #expect(fsyncs.totalValue <= before + 30)
        }
    }

    @Test func everyBatchFsyncsEachAppend() async throws {
        try await Support.withTemporaryDirectory { directory in
            let (log, fsyncs) = try await Self.openCounted(directory, .everyBatch)
            let before = fsyncs.totalValue
            for index in 0..<8 {
                _ = try await log.append(RecordBatch(sequential: Support.records(1, prefix: "e\(index)"))).get()
            }
            #expect(fsyncs.totalValue == before + 8)
        }
    }

    @Test func neverFsyncsOnlyOnFlush() async throws {
        try await Support.withTemporaryDirectory { directory in
            let (log, fsyncs) = try await Self.openCounted(directory, .never)
            let before = fsyncs.totalValue
            for index in 0..<8 {
                _ = try await log.append(RecordBatch(sequential: Support.records(1, prefix: "n\(index)"))).get()
            }
            #expect(fsyncs.totalValue == before)
            _ = try await log.flush().get()
            #expect(fsyncs.totalValue == before + 1)
            _ = try await log.flush().get()
            #expect(fsyncs.totalValue == before + 1)
        }
    }
}
