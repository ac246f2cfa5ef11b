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

    @Test func idleLogFsyncsAtOnceAndLaterAppendsShareOneFsync() async throws {
        try await Support.withTemporaryDirectory { directory in
            // A long interval: after the first group commit only the explicit flush can fsync.
            let (log, fsyncs) = try await Self.openCounted(directory, .interval(milliseconds: 3_600_000))
            let before = fsyncs.totalValue
            // Idle: the first append's fsync starts at once, not after the interval.
            #expect(try await log.append(RecordBatch(sequential: Support.records(1, prefix: "first"))).get().baseOffset == 0)
            #expect(fsyncs.totalValue == before + 1)
            #expect(log.syncedEndOffset == 1)
            let completions = Completions()
            let futures = (0..<25).map { index in
                log.append(RecordBatch(sequential: Support.records(1, prefix: "g\(index)")))
            }
            for future in futures { future.whenSuccess { _ in completions.increment() } }
            try await Support.waitUntil { log.logEndOffset == 26 }
            // Written, but not acknowledged: no fsync has covered them yet.
            #expect(completions.value == 0)
            #expect(fsyncs.totalValue == before + 1)
            #expect(log.syncedEndOffset == 1)
            _ = try await log.flush().get()
            var offsets: [Int64] = []
            for future in futures { offsets.append(try await future.get().baseOffset) }
            #expect(offsets == (1..<26).map(Int64.init))
            #expect(completions.value == 25)
            #expect(fsyncs.totalValue == before + 2)
            #expect(log.syncedEndOffset == 26)
        }
    }

    @Test func truncationFailsAppendsStillWaitingForTheirFsync() async throws {
        try await Support.withTemporaryDirectory { directory in
            let (log, _) = try await Self.openCounted(directory, .interval(milliseconds: 3_600_000))
            // Uses up the immediate group commit of the idle log.
            _ = try await log.append(RecordBatch(sequential: Support.records(1, prefix: "first"))).get()
            let futures = (0..<3).map { index in
                log.append(RecordBatch(sequential: Support.records(1, prefix: "w\(index)")))
            }
            try await Support.waitUntil { log.logEndOffset == 4 }
            #expect(try await log.truncate(to: 2).get() == 2)
            for (index, future) in futures.enumerated().dropFirst() {
                await #expect(throws: StorageError.appendTruncated(baseOffset: Int64(index + 1))) { try await future.get() }
            }
            _ = try await log.flush().get()
            #expect(try await futures[0].get().baseOffset == 1)
            #expect(try await Support.readAll(log, from: 0).map(\.value) == [ByteBuffer(string: "first-0"), ByteBuffer(string: "w0-0")])
        }
    }

    @Test(arguments: [DurabilityPolicy.everyBatch, .interval(milliseconds: 0), .interval(milliseconds: 3)])
    func acknowledgementsNeverPrecedeTheirFsync(_ durability: DurabilityPolicy) async throws {
        try await Support.withTemporaryDirectory { directory in
            let (log, fsyncs) = try await Self.openCounted(directory, durability)
            let before = fsyncs.totalValue
            let early = Completions()
            for wave in 0..<3 {
                let futures = (0..<40).map { index in
                    log.append(RecordBatch(sequential: Support.records(2, prefix: "d\(wave)-\(index)")))
                }
                for future in futures {
                    // Runs as the acknowledgement completes: the fsync covering it must be done.
                    future.whenSuccess { result in
                        if log.syncedEndOffset <= result.lastOffset { early.increment() }
                    }
                }
                for future in futures { _ = try await future.get() }
            }
            #expect(early.value == 0)
            #expect(fsyncs.totalValue > before)
            #expect(log.syncedEndOffset == 240)
        }
    }

    @Test func backToBackGroupCommitSharesFsyncsUnderLoad() async throws {
        try await Support.withTemporaryDirectory { directory in
            let (log, fsyncs) = try await Self.openCounted(directory, .interval(milliseconds: 0))
            let before = fsyncs.totalValue
            let futures = (0..<200).map { index in
                log.append(RecordBatch(sequential: Support.records(1, prefix: "b\(index)")))
            }
            var offsets: [Int64] = []
            for future in futures { offsets.append(try await future.get().baseOffset) }
            #expect(offsets == (0..<200).map(Int64.init))
            // Appends queued while an fsync runs are committed together by the next one.
            #expect(fsyncs.totalValue - before < 200)
            #expect(fsyncs.totalValue > before)
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
            #expect(log.syncedEndOffset == 0)
            _ = try await log.flush().get()
            #expect(fsyncs.totalValue == before + 1)
            #expect(log.syncedEndOffset == 8)
            _ = try await log.flush().get()
            #expect(fsyncs.totalValue == before + 1)
        }
    }
}
