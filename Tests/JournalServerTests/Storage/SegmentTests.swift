import Foundation
import NIOCore
import Testing

@testable import JournalServer

@Suite("Segment files and indexes")
struct SegmentTests {
    typealias Support = StorageTestSupport
    static let options = Segment.Options(indexIntervalBytes: 256, maxBatchBytes: 1 << 20)

    @discardableResult
    static func append(_ segment: Segment, _ records: [Record]) throws -> RecordBatchHeader {
        var buffer = ByteBuffer()
        let header = try RecordBatch(baseOffset: segment.nextOffset, sequential: records).encode(into: &buffer)
        try segment.append(buffer, header: header)
        return header
    }

    /// 120 batches of 1–4 records at base offset 1000, timestamps rising with jitter.
    static func filledSegment(_ directory: String) throws -> (Segment, [Record]) {
        let segment = try Segment.create(directory: directory, baseOffset: 1000, options: options, logger: Support.logger)
        var all: [Record] = []
        for batchIndex in 0..<120 {
            let count = batchIndex % 4 + 1
            let records = (0..<count).map { index in
                Record(
                    timestamp: Int64(batchIndex * 10 + (index * 7) % 5), key: nil,
                    value: ByteBuffer(string: "batch \(batchIndex) record \(index)"))
            }
            let header = try append(segment, records)
            all.append(contentsOf: RecordBatch(baseOffset: header.baseOffset, sequential: records).records)
        }
        return (segment, all)
    }

    @Test func appendsAndReadsByOffsetAcrossManyBatches() async throws {
        try await Support.withTemporaryDirectory { directory in
            let (segment, all) = try Self.filledSegment(directory)
            #expect(segment.nextOffset == 1000 + Int64(all.count))
            let fileSize = try Support.bytes(Support.segmentPath(directory, 1000)).count
            #expect(segment.size == fileSize)
            // Sparse: more than one entry, far fewer than batches.
            #expect(segment.offsetIndex.entries.count > 5)
            #expect(segment.offsetIndex.entries.count < 60)
            for record in all {
                let read = try segment.read(from: record.offset, maxBytes: 1, atLeastOneBatch: true)
                let batches = try RecordBatch.decodeAll(read.bytes)
                #expect(batches.count == 1)
                #expect(batches[0].records.contains(record))
                #expect(read.nextOffset == batches[0].records[batches[0].records.count - 1].offset + 1)
            }
            let everything = try segment.read(from: 1000, maxBytes: 1 << 20, atLeastOneBatch: true)
            #expect(everything.reachedEnd)
            #expect(try RecordBatch.decodeAll(everything.bytes).flatMap(\.records) == all)
            let limited = try segment.read(from: 1000, maxBytes: 500, atLeastOneBatch: true)
            #expect(!limited.reachedEnd)
            #expect(limited.bytes.readableBytes <= 500)
            #expect(limited.bytes.readableBytes > 400)
            let atEnd = try segment.read(from: segment.nextOffset, maxBytes: 100, atLeastOneBatch: true)
            #expect(atEnd.bytes.readableBytes == 0)
        }
    }

    @Test func offsetIndexPointsAtTheBatchesItNames() async throws {
        try await Support.withTemporaryDirectory { directory in
            let (segment, _) = try Self.filledSegment(directory)
            let positions = try Support.batchPositions(Support.segmentPath(directory, 1000))
            let file = ByteBuffer(bytes: try Support.bytes(Support.segmentPath(directory, 1000)))
            for entry in segment.offsetIndex.entries {
                #expect(positions.contains(Int(entry.position)))
                let header = try RecordBatchHeader(parsing: file, at: Int(entry.position))
                #expect(header.baseOffset == 1000 + Int64(entry.relativeOffset))
            }
            #expect(segment.offsetIndex.floor(0) == OffsetIndex.Entry(relativeOffset: 0, position: 0))
        }
    }

    @Test func looksUpOffsetsByTimestamp() async throws {
        try await Support.withTemporaryDirectory { directory in
            let (segment, all) = try Self.filledSegment(directory)
            #expect(segment.timeIndex.entries.count == segment.offsetIndex.entries.count)
            for target in Int64(-5)...1200 {
                let expected = all.first { $0.timestamp >= target }?.offset
                #expect(try segment.offset(forTimestamp: target) == expected, "timestamp \(target)")
            }
        }
    }

    @Test func truncatesWholeBatchesAndKeepsAppending() async throws {
        try await Support.withTemporaryDirectory { directory in
            let (segment, all) = try Self.filledSegment(directory)
            // Offset 1001 is the first record of the 2-record batch [1001, 1002].
            #expect(try segment.truncate(to: 1002) == 1001)
            #expect(segment.nextOffset == 1001)
            #expect(try segment.truncate(to: 1200) == 1001)
            let kept = try RecordBatch.decodeAll(try segment.read(from: 1000, maxBytes: 1 << 20, atLeastOneBatch: true).bytes)
            #expect(kept.flatMap(\.records) == Array(all.prefix(1)))
            let header = try Self.append(segment, Support.records(3))
            #expect(header.baseOffset == 1001)
            #expect(try segment.offset(forTimestamp: 1_001) == 1002)
            #expect(try segment.truncate(to: 1000) == 1000)
            #expect(segment.size == 0)
            #expect(segment.offsetIndex.entries.isEmpty)
        }
    }

    @Test func sealedSegmentReopensFromItsIndexes() async throws {
        try await Support.withTemporaryDirectory { directory in
            let (segment, all) = try Self.filledSegment(directory)
            try segment.seal()
            #expect(throws: StorageError.segmentSealed(baseOffset: 1000)) { try Self.append(segment, Support.records(1)) }
            let reopened = try Segment.open(directory: directory, baseOffset: 1000, asActive: false, options: Self.options, logger: Support.logger)
            #expect(reopened.corruption == nil)
            #expect(reopened.tail == segment.tail)
            #expect(reopened.offsetIndex.entries == segment.offsetIndex.entries)
            let read = try reopened.read(from: 1000, maxBytes: 1 << 20, atLeastOneBatch: true)
            #expect(try RecordBatch.decodeAll(read.bytes).flatMap(\.records) == all)
        }
    }

    @Test(arguments: ["missing", "garbage", "truncated", "stale"])
    func rebuildsMissingOrInconsistentIndexes(damage: String) async throws {
        try await Support.withTemporaryDirectory { directory in
            let (segment, all) = try Self.filledSegment(directory)
            try segment.seal()
            let indexPath = Support.segmentPath(directory, 1000, "index")
            let timeIndexPath = Support.segmentPath(directory, 1000, "timeindex")
            let originalIndex = try Support.bytes(indexPath)
            let originalTimeIndex = try Support.bytes(timeIndexPath)
            switch damage {
            case "missing":
                try FileManager.default.removeItem(atPath: indexPath)
                try FileManager.default.removeItem(atPath: timeIndexPath)
            case "garbage":
                try Support.write((0..<96).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }, to: indexPath)
            case "truncated":
                try Support.truncateFile(timeIndexPath, to: originalTimeIndex.count - 12)
            default:
                // Entries from a different log: well-formed but pointing at the wrong batches.
                try Support.write(Array(originalIndex.prefix(8)) + [0, 0, 0, 9, 0, 0, 0, 1], to: indexPath)
            }
            let reopened = try Segment.open(directory: directory, baseOffset: 1000, asActive: false, options: Self.options, logger: Support.logger)
            #expect(reopened.corruption == nil)
            #expect(try Support.bytes(indexPath) == originalIndex)
            #expect(try Support.bytes(timeIndexPath) == originalTimeIndex)
            #expect(reopened.tail == segment.tail)
            let read = try reopened.read(from: 1100, maxBytes: 1 << 20, atLeastOneBatch: true)
            #expect(try RecordBatch.decodeAll(read.bytes).flatMap(\.records).filter { $0.offset >= 1100 } == all.filter { $0.offset >= 1100 })
        }
    }
}
