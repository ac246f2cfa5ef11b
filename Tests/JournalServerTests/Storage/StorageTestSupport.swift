import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import JournalServer

/// Helpers shared by the storage tests: temporary directories (removed afterwards), record
/// builders, raw file surgery for crash and corruption scenarios, a manual clock.
enum StorageTestSupport {
    static let logger = Logger(label: "journal-storage-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Runs `body` with a fresh directory and removes it afterwards.
    static func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("tributary-journal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body(path)
    }

    /// `count` records with values `"<prefix>-<i>"`, timestamps `timestamp + i`, a key and a header.
    static func records(_ count: Int, prefix: String = "r", timestamp: Int64 = 1_000) -> [Record] {
        (0..<count).map { index in
            Record(
                timestamp: timestamp + Int64(index), key: ByteBuffer(string: "key-\(index % 3)"),
                value: ByteBuffer(string: "\(prefix)-\(index)"),
                headers: [RecordHeader(key: "n", value: ByteBuffer(string: "\(index)"))])
        }
    }

    static func segmentPath(_ directory: String, _ base: Int64, _ suffix: String = "log") -> String {
        directory + "/" + Segment.fileStem(base) + "." + suffix
    }

    static func logFiles(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".log") }.sorted()
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func truncateFile(_ path: String, to size: Int) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
    }

    static func flipBit(_ path: String, at position: Int) throws {
        var content = try bytes(path)
        content[position] ^= 0x04
        try write(content, to: path)
    }

    /// Positions of every batch in a segment file.
    static func batchPositions(_ path: String) throws -> [Int] {
        let content = ByteBuffer(bytes: try bytes(path))
        var positions: [Int] = []
        var position = 0
        while position < content.readableBytes {
            positions.append(position)
            position += try RecordBatchHeader(parsing: content, at: position).totalSize
        }
        return positions
    }

    static func openLog(
        _ directory: String,
        _ configuration: SegmentLogConfiguration = SegmentLogConfiguration(maxSegmentAgeMilliseconds: nil),
        metrics: SegmentLogMetrics = SegmentLogMetrics(),
        clock: ManualClock? = nil
    ) async throws -> SegmentLog {
        let clockFunction: @Sendable () -> Int64
        if let clock {
            clockFunction = { clock.now }
        } else {
            clockFunction = SegmentLog.systemClock
        }
        return try await SegmentLog.open(
            directory: directory, configuration: configuration, threadPool: NIOThreadPool.singleton,
            eventLoop: MultiThreadedEventLoopGroup.singleton.next(), logger: logger, metrics: metrics,
            clock: clockFunction
        ).get()
    }

    /// Reads the whole log from `offset` in chunks of `maxBytes` and decodes every record.
    static func readAll(_ log: SegmentLog, from offset: Int64, maxBytes: Int = 1 << 20) async throws -> [Record] {
        var records: [Record] = []
        var next = offset
        while next < log.logEndOffset {
            let result = try await log.read(from: next, maxBytes: maxBytes).get()
            for batch in try result.batches() {
                records.append(contentsOf: batch.records.filter { $0.offset >= next })
            }
            #expect(result.nextOffset > next)
            next = result.nextOffset
        }
        return records
    }

    /// Waits until `condition` holds, failing after `seconds`.
    static func waitUntil(seconds: Double = 30, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met within \(seconds)s")
                return
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }
}

/// A clock the test moves by hand (milliseconds).
final class ManualClock: Sendable {
    private let value: Mutex<Int64>

    init(_ start: Int64) { value = Mutex(start) }

    var now: Int64 { value.withLock { $0 } }

    func advance(by milliseconds: Int64) { value.withLock { $0 += milliseconds } }
}
