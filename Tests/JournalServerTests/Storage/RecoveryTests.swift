import Foundation
import NIOCore
import Testing

@testable import JournalServer

@Suite("Crash recovery and corruption")
struct RecoveryTests {
    typealias Support = StorageTestSupport

    /// A log with one segment of 10 batches of 3 records (offsets 0..<30), left open as after a crash.
    static func crashedLog(_ directory: String) async throws -> (path: String, positions: [Int]) {
        let log = try await Support.openLog(directory)
        for index in 0..<10 {
            _ = try await log.append(RecordBatch(sequential: Support.records(3, prefix: "b\(index)"))).get()
        }
        let path = Support.segmentPath(directory, 0)
        return (path, try Support.batchPositions(path))
    }

    static func expectIntact(_ log: SegmentLog, batches: Int) async throws {
        let records = try await Support.readAll(log, from: 0)
        #expect(records.map(\.offset) == (0..<Int64(batches * 3)).map { $0 })
        #expect(records.map(\.value) == (0..<batches).flatMap { b in (0..<3).map { ByteBuffer(string: "b\(b)-\($0)") } })
    }

    /// Cuts the file inside the last batch's records, inside its header, or inside the batch before.
    @Test(arguments: ["records", "header", "previous"])
    func tornTailIsTruncatedAtTheLastCompleteBatch(cut: String) async throws {
        try await Support.withTemporaryDirectory { directory in
            let (path, positions) = try await Self.crashedLog(directory)
            let size = try Support.bytes(path).count
            let newSize: Int
            let expectedBatches: Int
            switch cut {
            case "records": (newSize, expectedBatches) = (size - 5, 9)
            case "header": (newSize, expectedBatches) = (positions[9] + 30, 9)
            default: (newSize, expectedBatches) = (positions[9] - 10, 8)
            }
            try Support.truncateFile(path, to: newSize)
            let log = try await Support.openLog(directory)
            #expect(log.corruptSegments == [])
            #expect(log.logEndOffset == Int64(expectedBatches * 3))
            #expect(try Support.bytes(path).count == positions[expectedBatches])
            try await Self.expectIntact(log, batches: expectedBatches)
            let next = try await log.append(RecordBatch(sequential: Support.records(2))).get()
            #expect(next.baseOffset == Int64(expectedBatches * 3))
            // The repaired log reopens cleanly with the new batch.
            let again = try await Support.openLog(directory)
            #expect(again.logEndOffset == Int64(expectedBatches * 3 + 2))
        }
    }

    @Test(arguments: [7, 11, 16, 30, 70])
    func damageInTheLastBatchIsATornTail(at offsetInBatch: Int) async throws {
        try await Support.withTemporaryDirectory { directory in
            let (path, positions) = try await Self.crashedLog(directory)
            try Support.flipBit(path, at: positions[9] + offsetInBatch)
            let log = try await Support.openLog(directory)
            #expect(log.corruptSegments == [])
            #expect(log.logEndOffset == 27)
            #expect(try Support.bytes(path).count == positions[9])
            try await Self.expectIntact(log, batches: 9)
        }
    }

    /// Byte 7 is the low byte of `baseOffset` (outside the CRC), 11 of `batchLength` (so the
    /// next batch must be searched for), 16 is `magic`; 70 is inside a record.
    @Test(arguments: [7, 11, 16, 70])
    func damageFollowedByValidBatchesMarksTheActiveSegmentCorrupt(at offsetInBatch: Int) async throws {
        try await Support.withTemporaryDirectory { directory in
            let (path, positions) = try await Self.crashedLog(directory)
            let sizeBefore = try Support.bytes(path).count
            try Support.flipBit(path, at: positions[3] + offsetInBatch)
            let log = try await Support.openLog(directory)
            #expect(log.corruptSegments == [0])
            // Nothing is cut away: the data waits for repair from a replica.
            #expect(try Support.bytes(path).count == sizeBefore)
            await #expect(throws: StorageError.self) { try await log.read(from: 0, maxBytes: 1 << 20).get() }
            do {
                _ = try await log.read(from: 0, maxBytes: 1 << 20).get()
            } catch let error as StorageError {
                guard case .corruptSegment(baseOffset: 0, _) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
            }
            await #expect(throws: StorageError.logCorrupt(baseOffset: 0)) {
                _ = try await log.append(RecordBatch(sequential: Support.records(1))).get()
            }
            // Replication repairs by truncating below the damage and refetching.
            #expect(try await log.truncate(to: 0).get() == 0)
            #expect(log.corruptSegments == [])
            #expect(try await log.append(RecordBatch(sequential: Support.records(1))).get().baseOffset == 0)
        }
    }

    /// With a dense index the damage is behind the last index entry and found on read; with the
    /// default sparse index, open scans the segment and finds it at once.
    @Test(arguments: [100, 4096])
    func damageInASealedSegmentIsReportedAndNeverServed(indexIntervalBytes: Int) async throws {
        try await Support.withTemporaryDirectory { directory in
            let configuration = SegmentLogConfiguration(
                maxSegmentBytes: 1_000, maxSegmentAgeMilliseconds: nil, indexIntervalBytes: indexIntervalBytes)
            let log = try await Support.openLog(directory, configuration)
            for index in 0..<30 {
                _ = try await log.append(RecordBatch(sequential: Support.records(3, prefix: "b\(index)"))).get()
            }
            _ = try await log.close().get()
            let files = try Support.logFiles(directory)
            #expect(files.count > 3)
            let path = Support.segmentPath(directory, 0)
            let positions = try Support.batchPositions(path)
            try Support.flipBit(path, at: positions[1] + 70)

            let reopened = try await Support.openLog(directory, configuration)
            if indexIntervalBytes == 4096 {
                #expect(reopened.corruptSegments == [0])
            }
            do {
                let result = try await reopened.read(from: 3, maxBytes: 1 << 20).get()
                Issue.record("served \(result.bytes.readableBytes) bytes from a corrupt segment")
            } catch let error as StorageError {
                guard case .corruptSegment(baseOffset: 0, _) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
            }
            #expect(reopened.corruptSegments == [0])
            // Other segments are still served, and appends continue.
            let second = Int64(positions.count * 3)
            let read = try await reopened.read(from: second, maxBytes: 1 << 20).get()
            #expect(try read.batches().first?.baseOffset == second)
            #expect(try await reopened.append(RecordBatch(sequential: Support.records(1))).get().baseOffset == 90)
        }
    }

    @Test func activeSegmentIndexesAreRebuiltWhenMissingOrGarbage() async throws {
        try await Support.withTemporaryDirectory { directory in
            let configuration = SegmentLogConfiguration(maxSegmentAgeMilliseconds: nil, indexIntervalBytes: 200)
            let log = try await Support.openLog(directory, configuration)
            for index in 0..<10 {
                _ = try await log.append(RecordBatch(sequential: Support.records(3, prefix: "b\(index)"))).get()
            }
            _ = try await log.close().get()
            let indexPath = Support.segmentPath(directory, 0, "index")
            let timeIndexPath = Support.segmentPath(directory, 0, "timeindex")
            let index = try Support.bytes(indexPath)
            let timeIndex = try Support.bytes(timeIndexPath)
            #expect(index.count > 8)
            try FileManager.default.removeItem(atPath: indexPath)
            try Support.write([1, 2, 3, 4, 5, 6, 7], to: timeIndexPath)
            let reopened = try await Support.openLog(directory, configuration)
            #expect(try Support.bytes(indexPath) == index)
            #expect(try Support.bytes(timeIndexPath) == timeIndex)
            try await Self.expectIntact(reopened, batches: 10)
            #expect(try await reopened.offset(forTimestamp: 1_002).get() == 2)
        }
    }

    @Test(arguments: [DurabilityPolicy.everyBatch, .interval(milliseconds: 5)])
    func acknowledgedAppendsSurviveACrash(durability: DurabilityPolicy) async throws {
        try await Support.withTemporaryDirectory { directory in
            let configuration = SegmentLogConfiguration(maxSegmentBytes: 4_000, maxSegmentAgeMilliseconds: nil, durability: durability)
            let writer = try await Support.openLog(directory, configuration)
            var acknowledged: [AppendResult] = []
            for index in 0..<40 {
                acknowledged.append(try await writer.append(RecordBatch(sequential: Support.records(2, prefix: "a\(index)"))).get())
            }
            // "Crash": the writer is never closed; a new instance recovers from the files.
            let recovered = try await Support.openLog(directory, configuration)
            #expect(recovered.logEndOffset == 80)
            let records = try await Support.readAll(recovered, from: 0)
            for (index, result) in acknowledged.enumerated() {
                let stored = records.filter { $0.offset >= result.baseOffset && $0.offset <= result.lastOffset }
                #expect(stored.map(\.value) == [ByteBuffer(string: "a\(index)-0"), ByteBuffer(string: "a\(index)-1")])
            }
        }
    }
}
