import NIOCore
import PropertyBased
import Testing

@testable import JournalServer

/// Random sequences of appends, rolls, truncations, clean reopens and crash reopens, checked
/// after every step against a plain in-memory model of the log.
@Suite("SegmentLog against a model")
struct SegmentLogModelTests {
    typealias Support = StorageTestSupport

    /// The model: batches as (base offset, record values).
    struct Model {
        var batches: [(base: Int64, values: [String])] = []
        var end: Int64 { batches.last.map { $0.base + Int64($0.values.count) } ?? 0 }
        var values: [String] { batches.flatMap(\.values) }

        mutating func truncate(to offset: Int64) {
            batches.removeAll { $0.base + Int64($0.values.count) - 1 >= offset }
        }
    }

    @Test func randomOperationSequencesMatchTheModel() async throws {
        await propertyCheck(count: 25, input: Gen.int(in: 0...99).array(of: 1...30)) { operations in
            try await Support.withTemporaryDirectory { directory in
                let configuration = SegmentLogConfiguration(
                    maxSegmentBytes: 450, maxSegmentAgeMilliseconds: nil, indexIntervalBytes: 120, durability: .never)
                var log = try await Support.openLog(directory, configuration)
                var model = Model()
                var counter = 0
                for operation in operations {
                    switch operation {
                    case 0..<60:
                        let values = (0..<(operation % 4 + 1)).map { index -> String in
                            counter += 1
                            return "v\(counter)-\(index)"
                        }
                        let records = values.map { Record(timestamp: 1_000 + Int64(counter), value: ByteBuffer(string: $0)) }
                        let result = try await log.append(RecordBatch(sequential: records)).get()
                        #expect(result.baseOffset == model.end)
                        model.batches.append((model.end, values))
                    case 60..<70:
                        _ = try await log.roll().get()
                    case 70..<85:
                        let target = max(0, model.end - Int64(operation % 8))
                        model.truncate(to: target)
                        #expect(try await log.truncate(to: target).get() == model.end)
                    case 85..<95:
                        _ = try await log.close().get()
                        log = try await Support.openLog(directory, configuration)
                    default:
                        // Crash: abandon the instance without closing it.
                        log = try await Support.openLog(directory, configuration)
                    }
                    #expect(log.logEndOffset == model.end)
                    #expect(log.corruptSegments == [])
                    let records = try await Support.readAll(log, from: 0, maxBytes: 300)
                    #expect(records.map(\.offset) == (0..<model.end).map { $0 })
                    #expect(records.compactMap { $0.value.map { String(buffer: $0) } } == model.values)
                }
            }
        }
    }
}
