import NIOCore
import Synchronization
import Testing

@testable import JournalServer

/// Reads run next to the serial append queue; they must never see partial data, and a
/// truncation racing with a read must never be mistaken for corruption.
@Suite("Concurrent reads")
struct ConcurrentReadTests {
    typealias Support = StorageTestSupport

    final class Flag: Sendable {
        private let value = Mutex(false)
        var isSet: Bool { value.withLock { $0 } }
        func set() { value.withLock { $0 = true } }
    }

    /// Checks one read: contiguous offsets from the batch containing `offset`, every value
    /// naming its own offset.
    static func check(_ result: LogReadResult, from offset: Int64) throws {
        let records = try result.batches().flatMap(\.records)
        guard let first = records.first else { return }
        #expect(first.offset <= offset)
        #expect(records.map(\.offset) == (0..<Int64(records.count)).map { first.offset + $0 })
        for record in records {
            let value = record.value.map { String(buffer: $0) } ?? ""
            #expect(value.hasSuffix("-o\(record.offset)"), "\(value) at \(record.offset)")
        }
        #expect(result.nextOffset == records[records.count - 1].offset + 1)
    }

    @Test func readsRacingAppendsRollsAndTruncationsSeeConsistentData() async throws {
        try await Support.withTemporaryDirectory { directory in
            let configuration = SegmentLogConfiguration(
                maxSegmentBytes: 700, maxSegmentAgeMilliseconds: nil, indexIntervalBytes: 150, durability: .never)
            let log = try await Support.openLog(directory, configuration)
            let done = Flag()
            try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask {
                    defer { done.set() }
                    for step in 0..<300 {
                        if step % 50 == 49 {
                            _ = try await log.truncate(to: max(0, log.logEndOffset - 7)).get()
                            continue
                        }
                        let base = log.logEndOffset
                        let records = (0..<2).map { index in
                            Record(timestamp: Int64(step), value: ByteBuffer(string: "s\(step)-o\(base + Int64(index))"))
                        }
                        let result = try await log.append(RecordBatch(sequential: records)).get()
                        #expect(result.baseOffset == base)
                    }
                    return 0
                }
                for reader in 0..<2 {
                    group.addTask {
                        var reads = 0
                        while !done.isSet || reads == 0 {
                            let end = log.logEndOffset
                            let offset = end == 0 ? 0 : Int64((reads * 7 + reader * 13) % Int(end))
                            do {
                                let result = try await log.read(from: offset, maxBytes: 400).get()
                                try Self.check(result, from: offset)
                            } catch StorageError.offsetOutOfRange {
                                // A truncation moved the end below `offset` between the two calls.
                            }
                            reads += 1
                        }
                        return reads
                    }
                }
                var total = 0
                for try await count in group { total += count }
                #expect(total > 0)
            }
            #expect(log.corruptSegments == [])
            let all = try await Support.readAll(log, from: 0)
            #expect(all.map(\.offset) == (0..<log.logEndOffset).map { $0 })
        }
    }
}
