import Foundation
import CoreMetrics
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import JournalServer

/// A store in a temporary data directory, on the shared event loops and a private thread pool.
final class ShardTestStore: Sendable {
    static let logger = Logger(label: "journal-shard-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    let dataDirectory: String
    let threadPool: NIOThreadPool

    init() {
        dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("tributary-shards-\(UUID().uuidString)").path
        threadPool = NIOThreadPool(numberOfThreads: 2)
        threadPool.start()
    }

    func open(
        tailReadBytes: Int = ShardStore.defaultTailReadBytes, metrics: any MetricsFactory = MetricsSystem.factory
    ) async throws -> ShardStore {
        try await ShardStore.open(
            dataDirectory: dataDirectory, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, threadPool: threadPool,
            logger: Self.logger, tailReadBytes: tailReadBytes, metricsFactory: metrics
        ).get()
    }

    /// Runs `body` with a fresh data directory and removes everything afterwards.
    static func with<T>(_ body: (ShardTestStore) async throws -> T) async throws -> T {
        let fixture = ShardTestStore()
        defer { try? FileManager.default.removeItem(atPath: fixture.dataDirectory) }
        do {
            let result = try await body(fixture)
            try? await fixture.threadPool.shutdownGracefully()
            return result
        } catch {
            try? await fixture.threadPool.shutdownGracefully()
            throw error
        }
    }

    static func record(_ key: String, _ value: String, timestamp: Int64 = 1_000) -> Record {
        Record(timestamp: timestamp, key: ByteBuffer(string: key), value: ByteBuffer(string: value),
               headers: [RecordHeader(key: "h", value: ByteBuffer(string: value))])
    }

    static func values(_ records: [Record]) -> [String] {
        records.map { $0.value.map { String(buffer: $0) } ?? "<nil>" }
    }
}

/// Collects what a tail delivers and lets a test wait for a condition with a deadline.
final class TailCollector: Sendable {
    private let state = Mutex<[Record]>([])

    var records: [Record] { state.withLock { $0 } }

    func handler() -> ShardTail.Handler {
        { batch in
            self.state.withLock { $0.append(contentsOf: batch.records) }
            return MultiThreadedEventLoopGroup.singleton.any().makeSucceededVoidFuture()
        }
    }

    /// Waits until `condition` holds on the collected records, failing after `seconds`.
    func wait(seconds: Double = 10, _ condition: ([Record]) -> Bool) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while !condition(records) {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met in \(seconds)s; have \(ShardTestStore.values(records))")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
