import Logging
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One shard's local log on one node: a directory of segments with append, read by offset or
/// timestamp, roll by size and age, retention by time and size, truncation, crash recovery and a
/// configurable fsync policy with group commit.
///
/// All file IO and fsyncs run on an `NIOThreadPool`, never on the caller's event loop. Operations
/// go through a serial work queue in call order: appends are ordered exactly as ``append(_:)``
/// is called, and a queue drained in one go handles many operations per thread-pool hop. Every
/// method returns an `EventLoopFuture` on the log's event loop.
///
/// ```swift
/// let log = try await SegmentLog.open(directory: dir, threadPool: pool, eventLoop: loop, logger: logger).get()
/// let appended = try await log.append(RecordBatch(sequential: records)).get()
/// let read = try await log.read(from: appended.baseOffset, maxBytes: 1 << 20).get()
/// ```
public final class SegmentLog: Sendable {
    typealias Operation = @Sendable (SegmentLogCore?) -> Void

    struct Queue: Sendable {
        var pending: [Operation] = []
        var isDraining = false
    }

    /// Offsets readable without a queue hop.
    struct Snapshot: Sendable {
        var logStartOffset: Int64
        var logEndOffset: Int64
        var syncedEndOffset: Int64
        var corruptSegments: [Int64]
    }

    /// The event loop the returned futures complete on.
    public let eventLoop: any EventLoop
    /// The segment directory.
    public let directory: String
    /// The log's settings.
    public let configuration: SegmentLogConfiguration
    let threadPool: NIOThreadPool
    let core: SegmentLogCore
    let queue = Mutex(Queue())
    let snapshot: Mutex<Snapshot>

    private init(core: SegmentLogCore, threadPool: NIOThreadPool, eventLoop: any EventLoop) {
        self.core = core
        self.threadPool = threadPool
        self.eventLoop = eventLoop
        self.directory = core.directory
        self.configuration = core.configuration
        self.snapshot = Mutex(
            Snapshot(
                logStartOffset: core.logStartOffset, logEndOffset: core.logEndOffset, syncedEndOffset: core.syncedEndOffset,
                corruptSegments: core.corruptSegments))
    }

    /// Opens (creating if needed) the log in `directory` and recovers it: the active segment's
    /// torn tail is truncated, indexes are rebuilt where needed, corrupt segments are reported
    /// in ``corruptSegments``.
    ///
    /// - Parameters:
    ///   - initialOffset: the base offset of the first segment of a new, empty log.
    ///   - clock: milliseconds since the epoch, for roll by age and retention by time.
    public static func open(
        directory: String,
        configuration: SegmentLogConfiguration = SegmentLogConfiguration(),
        threadPool: NIOThreadPool,
        eventLoop: any EventLoop,
        logger: Logger,
        metrics: SegmentLogMetrics = SegmentLogMetrics(),
        initialOffset: Int64 = 0,
        clock: @escaping @Sendable () -> Int64 = SegmentLog.systemClock
    ) -> EventLoopFuture<SegmentLog> {
        var logger = logger
        logger[metadataKey: "shardLog"] = "\(directory)"
        let opened = threadPool.runIfActive(eventLoop: eventLoop) { [logger] in
            try SegmentLogCore.open(
                directory: directory, configuration: configuration, logger: logger, metrics: metrics, clock: clock,
                initialOffset: initialOffset)
        }
        return opened.map { SegmentLog(core: $0, threadPool: threadPool, eventLoop: eventLoop) }
    }

    /// Milliseconds since the Unix epoch from the system's real-time clock.
    @Sendable
    public static func systemClock() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// The first offset still stored.
    public var logStartOffset: Int64 { snapshot.withLock { $0.logStartOffset } }
    /// The offset the next append gets.
    public var logEndOffset: Int64 { snapshot.withLock { $0.logEndOffset } }
    /// One past the last offset an fsync has covered (the recovered end at open). An append
    /// acknowledged under ``DurabilityPolicy/everyBatch`` or ``DurabilityPolicy/interval(milliseconds:)``
    /// is always below it by the time its future completes.
    public var syncedEndOffset: Int64 { snapshot.withLock { $0.syncedEndOffset } }
    /// Base offsets of segments found corrupt (not served until repaired from a replica).
    public var corruptSegments: [Int64] { snapshot.withLock { $0.corruptSegments } }

    /// Appends a batch; the log assigns its offsets (the batch's `baseOffset` is replaced with
    /// the log end offset). Completes per the durability policy.
    public func append(_ batch: RecordBatch, leaderEpoch: Int32? = nil) -> EventLoopFuture<AppendResult> {
        let encoded: ByteBuffer
        do {
            encoded = try batch.encoded()
        } catch {
            return eventLoop.makeFailedFuture(StorageError.invalidBatch(error))
        }
        return append(encoded: encoded, leaderEpoch: leaderEpoch)
    }

    /// Appends one encoded batch (for example as received from a Kafka producer); its length and
    /// CRC are checked off the event loop, and the log assigns its offsets.
    public func append(encoded: ByteBuffer, leaderEpoch: Int32? = nil) -> EventLoopFuture<AppendResult> {
        appendOperation(encoded, assignOffsets: true, leaderEpoch: leaderEpoch)
    }

    /// Appends one encoded batch keeping its offsets, which must continue the log (a follower
    /// copying its leader).
    public func appendReplicated(encoded: ByteBuffer) -> EventLoopFuture<AppendResult> {
        appendOperation(encoded, assignOffsets: false, leaderEpoch: nil)
    }

    /// Reads whole batches starting with the one that contains `offset`, across segments, up to
    /// `maxBytes` (the first batch is returned even if larger, so readers always progress).
    /// Reading at the log end returns no bytes; outside the log is ``StorageError/offsetOutOfRange(requested:logStart:logEnd:)``.
    ///
    /// Reads do not wait behind appends or fsyncs: they run on the thread pool next to the log's
    /// serial queue.
    public func read(from offset: Int64, maxBytes: Int) -> EventLoopFuture<LogReadResult> {
        threadPool.runIfActive(eventLoop: eventLoop) {
            do throws(StorageError) {
                return try self.core.readConcurrently(from: offset, maxBytes: maxBytes)
            } catch {
                if case .corruptSegment(let baseOffset, _) = error {
                    self.snapshot.withLock { snapshot in
                        if !snapshot.corruptSegments.contains(baseOffset) {
                            snapshot.corruptSegments.append(baseOffset)
                            snapshot.corruptSegments.sort()
                        }
                    }
                }
                throw error
            }
        }
    }

    /// The offset of the first record with a timestamp at or after `timestamp`, or `nil`.
    public func offset(forTimestamp timestamp: Int64) -> EventLoopFuture<Int64?> {
        submit { core throws(StorageError) in try core.offset(forTimestamp: timestamp) }
    }

    /// Removes all batches containing offsets at or after `offset` (whole batches), for a
    /// follower whose tail diverged from its leader. Returns the new log end offset.
    public func truncate(to offset: Int64) -> EventLoopFuture<Int64> {
        submit { core throws(StorageError) in try core.locked { () throws(StorageError) in try core.truncate(to: offset) } }
    }

    /// Seals the active segment and starts a new one (no-op if the active segment is empty).
    public func roll() -> EventLoopFuture<Void> {
        submit { core throws(StorageError) in try core.locked { () throws(StorageError) in try core.roll() } }
    }

    /// Deletes sealed segments past the time or size retention; returns their base offsets.
    public func enforceRetention() -> EventLoopFuture<[Int64]> {
        submit { core throws(StorageError) in try core.locked { () throws(StorageError) in try core.enforceRetention() } }
    }

    /// Fsyncs now and completes every append waiting for a group commit.
    public func flush() -> EventLoopFuture<Void> {
        submit { core throws(StorageError) in try self.groupCommit(core) }
    }

    /// Completes waiting appends (fsyncing them) and closes the log; later calls fail with
    /// ``StorageError/closed``.
    public func close() -> EventLoopFuture<Void> {
        submit { core throws(StorageError) in
            try self.groupCommit(core)
            try core.locked { () throws(StorageError) in core.close() }
        }
    }
}
