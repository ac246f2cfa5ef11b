import Foundation
import NIOCore
import Testing

@testable import JournalServer

@Suite("SegmentLog roll, retention, truncation")
struct SegmentLogTests {
    typealias Support = StorageTestSupport

    /// Appends `batches` batches of `perBatch` records, timestamps from `clock` (or 1000+i).
    @discardableResult
    static func fill(_ log: SegmentLog, batches: Int, perBatch: Int = 3, timestamp: Int64 = 1_000) async throws -> [AppendResult] {
        var results: [AppendResult] = []
        for index in 0..<batches {
            let records = Support.records(perBatch, prefix: "b\(index)", timestamp: timestamp + Int64(index))
            results.append(try await log.append(RecordBatch(sequential: records)).get())
        }
        return results
    }

    @Test func assignsOffsetsAndReadsAcrossRolledSegments() async throws {
        try await Support.withTemporaryDirectory { directory in
            let log = try await Support.openLog(directory, SegmentLogConfiguration(maxSegmentBytes: 1_000, maxSegmentAgeMilliseconds: nil, indexIntervalBytes: 300))
            let results = try await Self.fill(log, batches: 60)
            #expect(results.map(\.baseOffset) == (0..<60).map { Int64($0 * 3) })
            #expect(results.allSatisfy { $0.lastOffset == $0.baseOffset + 2 })
            #expect(log.logStartOffset == 0)
            #expect(log.logEndOffset == 180)
            let files = try Support.logFiles(directory)
            #expect(files.count > 5)
            for file in files {
                let size = try FileManager.default.attributesOfItem(atPath: directory + "/" + file)[.size] as? Int ?? -1
                #expect(size <= 1_000)
            }
            let all = try await Support.readAll(log, from: 0, maxBytes: 700)
            #expect(all.map(\.offset) == (0..<180).map(Int64.init))
            #expect(all[100].value == ByteBuffer(string: "b33-1"))
            // A read in the middle of a batch starts with that batch.
            let middle = try await log.read(from: 100, maxBytes: 1).get()
            #expect(try middle.batches().map(\.baseOffset) == [99])
            #expect(middle.nextOffset == 102)
            let atEnd = try await log.read(from: 180, maxBytes: 1000).get()
            #expect(atEnd.bytes.readableBytes == 0)
            await #expect(throws: StorageError.offsetOutOfRange(requested: 181, logStart: 0, logEnd: 180)) {
                _ = try await log.read(from: 181, maxBytes: 1000).get()
            }
            let firstAt1030 = all.first { $0.timestamp >= 1_030 }?.offset
            #expect(firstAt1030 == 86)
            #expect(try await log.offset(forTimestamp: 1_030).get() == firstAt1030)
            #expect(try await log.offset(forTimestamp: 9_999).get() == nil)
            _ = try await log.close().get()
            await #expect(throws: StorageError.closed) { try await log.read(from: 0, maxBytes: 10).get() }
        }
    }

    @Test func rollsByAge() async throws {
        try await Support.withTemporaryDirectory { directory in
            let clock = ManualClock(50_000)
            let log = try await Support.openLog(directory, SegmentLogConfiguration(maxSegmentAgeMilliseconds: 1_000), clock: clock)
            // The age counts from the first batch's timestamp (50_000).
            try await Self.fill(log, batches: 3, perBatch: 1, timestamp: clock.now)
            clock.advance(by: 999)
            try await Self.fill(log, batches: 1, perBatch: 1, timestamp: clock.now)
            #expect(try Support.logFiles(directory).count == 1)
            clock.advance(by: 1)
            try await Self.fill(log, batches: 1, perBatch: 1, timestamp: clock.now)
            #expect(try Support.logFiles(directory) == [Segment.fileStem(0) + ".log", Segment.fileStem(4) + ".log"])
            #expect(try await Support.readAll(log, from: 0).count == 5)
        }
    }

    @Test func retentionByTimeDeletesOldSealedSegments() async throws {
        try await Support.withTemporaryDirectory { directory in
            let clock = ManualClock(100_000)
            let configuration = SegmentLogConfiguration(
                maxSegmentAgeMilliseconds: nil, retentionMilliseconds: 10_000, indexIntervalBytes: 100)
            let log = try await Support.openLog(directory, configuration, clock: clock)
            // Three segments with newest timestamps 95_000, 99_000 and 104_000.
            try await Self.fill(log, batches: 2, perBatch: 1, timestamp: 94_999)
            _ = try await log.roll().get()
            try await Self.fill(log, batches: 2, perBatch: 1, timestamp: 98_999)
            _ = try await log.roll().get()
            try await Self.fill(log, batches: 2, perBatch: 1, timestamp: 103_999)
            #expect(try await log.enforceRetention().get() == [])
            clock.advance(by: 5_001)  // now 105_001: the first segment (95_000) is too old
            #expect(try await log.enforceRetention().get() == [0])
            #expect(log.logStartOffset == 2)
            clock.advance(by: 100_000)  // everything is old, but the active segment stays
            #expect(try await log.enforceRetention().get() == [2])
            #expect(log.logStartOffset == 4)
            #expect(try Support.logFiles(directory) == [Segment.fileStem(4) + ".log"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory).count == 3)
            await #expect(throws: StorageError.offsetOutOfRange(requested: 1, logStart: 4, logEnd: 6)) {
                _ = try await log.read(from: 1, maxBytes: 100).get()
            }
            #expect(try await Support.readAll(log, from: 4).map(\.offset) == [4, 5])
        }
    }

    @Test func retentionBySizeKeepsAtLeastTheConfiguredBytes() async throws {
        try await Support.withTemporaryDirectory { directory in
            let oneBatch = try RecordBatch(sequential: Support.records(3, prefix: "b0")).encoded().readableBytes
            // Every segment holds exactly two batches.
            let configuration = SegmentLogConfiguration(
                maxSegmentBytes: 2 * oneBatch + 5, maxSegmentAgeMilliseconds: nil, retentionMilliseconds: nil, retentionBytes: 5 * oneBatch)
            let log = try await Support.openLog(directory, configuration)
            try await Self.fill(log, batches: 9)
            #expect(try Support.logFiles(directory).count == 5)
            // 9 batches stored; dropping the two oldest segments leaves 5 batches ≥ 5.
            #expect(try await log.enforceRetention().get() == [0, 6])
            #expect(log.logStartOffset == 12)
            #expect(try await log.enforceRetention().get() == [])
            #expect(try await Support.readAll(log, from: 12).count == 15)
        }
    }

    @Test func truncatesAcrossSegmentsAndContinuesAppending() async throws {
        try await Support.withTemporaryDirectory { directory in
            let log = try await Support.openLog(directory, SegmentLogConfiguration(maxSegmentBytes: 800, maxSegmentAgeMilliseconds: nil))
            try await Self.fill(log, batches: 30)
            let segmentsBefore = try Support.logFiles(directory).count
            #expect(segmentsBefore > 4)
            // 31 is inside the batch [30, 32]: the whole batch goes.
            #expect(try await log.truncate(to: 31).get() == 30)
            #expect(log.logEndOffset == 30)
            #expect(try Support.logFiles(directory).count < segmentsBefore)
            let appended = try await log.append(RecordBatch(sequential: Support.records(2, prefix: "new"))).get()
            #expect(appended.baseOffset == 30)
            let all = try await Support.readAll(log, from: 0)
            #expect(all.map(\.offset) == (0..<32).map(Int64.init))
            #expect(all[30].value == ByteBuffer(string: "new-0"))
            #expect(all[29].value == ByteBuffer(string: "b9-2"))
            // Truncating to the start empties the log but keeps its offsets.
            #expect(try await log.truncate(to: 0).get() == 0)
            #expect(log.logEndOffset == 0)
            #expect(try Support.logFiles(directory) == [Segment.fileStem(0) + ".log"])
            #expect(try await log.append(RecordBatch(sequential: Support.records(1))).get().baseOffset == 0)
        }
    }

    @Test func followerAppendsKeepLeaderOffsets() async throws {
        try await Support.withTemporaryDirectory { directory in
            let log = try await Support.openLog(directory)
            let first = try RecordBatch(baseOffset: 0, sequential: Support.records(2)).encoded()
            #expect(try await log.appendReplicated(encoded: first).get().lastOffset == 1)
            let gap = try RecordBatch(baseOffset: 5, sequential: Support.records(2)).encoded()
            await #expect(throws: StorageError.nonContiguousAppend(expected: 2, got: 5)) {
                _ = try await log.appendReplicated(encoded: gap).get()
            }
            var damaged = try RecordBatch(baseOffset: 2, sequential: Support.records(2)).encoded()
            damaged.setInteger(UInt8(0xEE), at: damaged.writerIndex - 1)
            await #expect(throws: StorageError.self) { try await log.appendReplicated(encoded: damaged).get() }
            #expect(log.logEndOffset == 2)
        }
    }

    @Test func rejectsMalformedEncodedBatchesWithoutWriting() async throws {
        try await Support.withTemporaryDirectory { directory in
            let configuration = SegmentLogConfiguration(maxSegmentAgeMilliseconds: nil, maxBatchBytes: 1_000)
            let log = try await Support.openLog(directory, configuration)
            let valid = try RecordBatch(sequential: Support.records(2)).encoded()

            var twoBatches = valid
            twoBatches.writeImmutableBuffer(valid)
            await #expect(throws: StorageError.invalidBatch(.trailingBytes(valid.readableBytes))) {
                try await log.append(encoded: twoBatches).get()
            }
            let partial = valid.getSlice(at: 0, length: valid.readableBytes - 1) ?? ByteBuffer()
            await #expect(throws: StorageError.invalidBatch(.truncated(needed: valid.readableBytes, available: valid.readableBytes - 1))) {
                try await log.append(encoded: partial).get()
            }
            let large = try RecordBatch(sequential: [Record(timestamp: 1, value: ByteBuffer(repeating: 7, count: 1_000))]).encoded()
            await #expect(throws: StorageError.invalidBatch(.batchTooLarge(length: large.readableBytes, limit: 1_000))) {
                try await log.append(encoded: large).get()
            }
            var flipped = valid
            flipped.setInteger(UInt8(0x55), at: flipped.writerIndex - 3)
            await #expect(throws: StorageError.self) { try await log.append(encoded: flipped).get() }
            #expect(log.logEndOffset == 0)
            #expect(try await log.append(encoded: valid).get().lastOffset == 1)
        }
    }

    @Test func stampsTheLeaderEpoch() async throws {
        try await Support.withTemporaryDirectory { directory in
            let log = try await Support.openLog(directory)
            _ = try await log.append(RecordBatch(sequential: Support.records(1)), leaderEpoch: 7).get()
            let read = try await log.read(from: 0, maxBytes: 1000).get()
            #expect(try read.batches().map(\.partitionLeaderEpoch) == [7])
        }
    }
}
