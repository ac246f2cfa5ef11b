import Logging
import Metrics
import NIOCore
import Synchronization

/// The state of a ``SegmentLog``: its segments, oldest first, the last one active.
///
/// Every method does blocking file IO. The log runs them one at a time on its serial work queue
/// on an `NIOThreadPool` thread: the queue is the only writer of the state. Reads run
/// concurrently on other pool threads; they look at the state only under ``locked(_:)``, which
/// the queue holds while it changes the segment list, segment tails or indexes. That is what
/// makes the unchecked `Sendable` sound.
final class SegmentLogCore: @unchecked Sendable {
    let directory: String
    let configuration: SegmentLogConfiguration
    let logger: Logger
    let metrics: SegmentLogMetrics
    let clock: @Sendable () -> Int64
    /// Never empty: the last segment is the active one.
    private(set) var segments: [Segment]
    var isClosed = false
    /// Held by the queue while it changes what readers plan from, and by readers while planning.
    private let stateLock = Mutex(())
    /// Set when an fsync failed: the page cache may have dropped the data, so the log refuses
    /// further appends (the replication layer rebuilds it from a replica).
    private(set) var syncFailure: StorageError?
    /// Appends written but waiting for the group-commit fsync.
    var awaitingSync: [(promise: EventLoopPromise<AppendResult>, result: AppendResult)] = []
    /// Whether a group-commit fsync is scheduled (waiting out the policy's interval).
    var isSyncScheduled = false
    /// When the last group-commit fsync started (for the policy's minimum interval).
    var lastGroupCommitStart: NIODeadline?
    /// One past the last offset covered by a completed fsync (or found on disk at open).
    private(set) var syncedEndOffset: Int64 = 0

    private var segmentOptions: Segment.Options {
        Segment.Options(indexIntervalBytes: configuration.indexIntervalBytes, maxBatchBytes: configuration.maxBatchBytes)
    }

    private init(
        directory: String, configuration: SegmentLogConfiguration, logger: Logger, metrics: SegmentLogMetrics,
        clock: @escaping @Sendable () -> Int64, segments: [Segment]
    ) {
        self.directory = directory
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.clock = clock
        self.segments = segments
    }

    /// Opens the log in `directory` (created if missing), recovering its segments.
    static func open(
        directory: String, configuration: SegmentLogConfiguration, logger: Logger, metrics: SegmentLogMetrics,
        clock: @escaping @Sendable () -> Int64, initialOffset: Int64
    ) throws(StorageError) -> SegmentLogCore {
        try StorageFile.makeDirectory(directory)
        let bases = try StorageFile.listDirectory(directory).compactMap { name -> Int64? in
            guard name.hasSuffix(".log"), name.utf8.count == 24 else { return nil }
            return Int64(name.dropLast(4))
        }.sorted()
        let options = Segment.Options(indexIntervalBytes: configuration.indexIntervalBytes, maxBatchBytes: configuration.maxBatchBytes)
        var segments: [Segment] = []
        for (index, base) in bases.enumerated() {
            let segment = try Segment.open(
                directory: directory, baseOffset: base, asActive: index == bases.count - 1, options: options, logger: logger)
            if segment.corruption != nil { metrics.corruptSegments.increment() }
            if let previous = segments.last, previous.corruption == nil, previous.nextOffset != base {
                logger.warning(
                    "gap or overlap between segments",
                    metadata: ["previousNextOffset": "\(previous.nextOffset)", "segment": "\(base)"])
            }
            segments.append(segment)
        }
        if segments.isEmpty {
            segments.append(try Segment.create(directory: directory, baseOffset: initialOffset, options: options, logger: logger))
            try StorageFile.syncDirectory(directory)
        }
        let core = SegmentLogCore(
            directory: directory, configuration: configuration, logger: logger, metrics: metrics, clock: clock,
            segments: segments)
        core.syncedEndOffset = core.logEndOffset
        logger.info(
            "opened shard log",
            metadata: [
                "segments": "\(segments.count)", "logStartOffset": "\(core.logStartOffset)",
                "logEndOffset": "\(core.logEndOffset)",
            ])
        return core
    }

    /// Runs `body` holding the state lock (not reentrant).
    func locked<Value: Sendable>(_ body: () throws(StorageError) -> Value) throws(StorageError) -> Value {
        try stateLock.withLock { _ throws(StorageError) -> Value in try body() }
    }

    var active: Segment { segments[segments.count - 1] }
    var logStartOffset: Int64 { segments[0].baseOffset }
    var logEndOffset: Int64 { active.nextOffset }
    var totalBytes: Int { segments.reduce(0) { $0 + $1.size } }
    var corruptSegments: [Int64] { segments.filter { $0.corruption != nil }.map(\.baseOffset) }

    func ensureOpen() throws(StorageError) {
        if isClosed { throw .closed }
    }

    /// Validates one encoded batch, sets its offsets (and leader epoch) and writes it, rolling
    /// first if the active segment is full or old.
    func append(_ encoded: ByteBuffer, assignOffsets: Bool, leaderEpoch: Int32?) throws(StorageError) -> AppendResult {
        try ensureOpen()
        if let syncFailure { throw syncFailure }
        var bytes = encoded
        var header: RecordBatchHeader
        do {
            header = try RecordBatchHeader(parsing: bytes, at: bytes.readerIndex, maxBatchBytes: configuration.maxBatchBytes)
            try header.verifyChecksum(in: bytes, at: bytes.readerIndex)
        } catch {
            throw .invalidBatch(error)
        }
        guard bytes.readableBytes == header.totalSize else {
            throw .invalidBatch(.trailingBytes(bytes.readableBytes - header.totalSize))
        }
        if assignOffsets {
            header.baseOffset = logEndOffset
            bytes.setInteger(header.baseOffset, at: bytes.readerIndex)
        } else if header.baseOffset != logEndOffset {
            throw .nonContiguousAppend(expected: logEndOffset, got: header.baseOffset)
        }
        if let leaderEpoch {
            header.partitionLeaderEpoch = leaderEpoch
            bytes.setInteger(leaderEpoch, at: bytes.readerIndex + RecordBatchHeader.partitionLeaderEpochOffset)
        }
        if let corruption = active.corruption {
            logger.error("refusing append to a corrupt active segment", metadata: ["reason": "\(corruption)"])
            throw .logCorrupt(baseOffset: active.baseOffset)
        }
        if shouldRoll(before: header) { try roll() }
        try active.append(bytes, header: header)
        metrics.appendedBatches.increment()
        metrics.appendedBytes.increment(by: header.totalSize)
        return AppendResult(
            baseOffset: header.baseOffset, lastOffset: header.lastOffset, logStartOffset: logStartOffset,
            sizeInBytes: header.totalSize)
    }

    private func shouldRoll(before header: RecordBatchHeader) -> Bool {
        let active = self.active
        guard !active.isEmpty else { return false }
        if active.size + header.totalSize > configuration.maxSegmentBytes { return true }
        if header.lastOffset - active.baseOffset > Int64(UInt32.max) { return true }
        if let maxAge = configuration.maxSegmentAgeMilliseconds, let first = active.tail.firstBatchTimestamp,
            clock() - first >= maxAge
        {
            return true
        }
        return false
    }

    /// Seals the active segment and starts a new one at the log end (no-op if it is empty).
    func roll() throws(StorageError) {
        try ensureOpen()
        guard !active.isEmpty else { return }
        if try active.seal() { metrics.fsyncs.increment() }
        syncedEndOffset = logEndOffset
        let segment = try Segment.create(directory: directory, baseOffset: logEndOffset, options: segmentOptions, logger: logger)
        segments.append(segment)
        try StorageFile.syncDirectory(directory)
        metrics.segmentsRolled.increment()
        logger.info("rolled to a new segment", metadata: ["baseOffset": "\(segment.baseOffset)"])
    }

    /// Fsyncs the active segment if it has unsynced data; returns whether an fsync ran.
    @discardableResult
    func syncActive() throws(StorageError) -> Bool {
        guard !isClosed else { return false }
        do {
            guard try active.syncIfNeeded() else {
                // Nothing unsynced in the active segment: the older ones were synced when sealed.
                syncedEndOffset = logEndOffset
                return false
            }
        } catch {
            logger.critical("fsync failed; the log refuses appends from now on", metadata: ["error": "\(error)"])
            syncFailure = error
            throw error
        }
        metrics.fsyncs.increment()
        syncedEndOffset = logEndOffset
        return true
    }

    /// Whole batches from `offset` on, across segments, up to `maxBytes` (at least one batch).
    func read(from offset: Int64, maxBytes: Int) throws(StorageError) -> LogReadResult {
        try ensureOpen()
        guard offset >= logStartOffset, offset <= logEndOffset else {
            throw .offsetOutOfRange(requested: offset, logStart: logStartOffset, logEnd: logEndOffset)
        }
        var result = LogReadResult(
            bytes: ByteBuffer(), nextOffset: offset, logStartOffset: logStartOffset, logEndOffset: logEndOffset)
        guard var index = segments.lastIndex(where: { $0.baseOffset <= offset }) else { return result }
        var next = offset
        while index < segments.count {
            let remaining = maxBytes - result.bytes.readableBytes
            let part = try segments[index].read(from: next, maxBytes: remaining, atLeastOneBatch: result.bytes.readableBytes == 0)
            result.bytes.writeImmutableBuffer(part.bytes)
            next = part.nextOffset
            guard part.reachedEnd else { break }
            index += 1
            if index < segments.count { next = max(next, segments[index].baseOffset) }
        }
        result.nextOffset = next
        return result
    }

    /// Reads like ``read(from:maxBytes:)`` but off the queue, concurrently with appends: plans
    /// under the state lock, reads files without it, then checks that no planned segment was
    /// truncated meanwhile (retrying if one was). Data damage found by a read whose plan is
    /// still current marks the segment corrupt.
    func readConcurrently(from offset: Int64, maxBytes: Int) throws(StorageError) -> LogReadResult {
        for _ in 0..<3 {
            let (plans, start, end) = try locked { () throws(StorageError) -> ([Segment.ReadPlan], Int64, Int64) in
                try ensureOpen()
                guard offset >= logStartOffset, offset <= logEndOffset else {
                    throw .offsetOutOfRange(requested: offset, logStart: logStartOffset, logEnd: logEndOffset)
                }
                let first = segments.lastIndex { $0.baseOffset <= offset } ?? 0
                return (segments[first...].map { $0.readPlan(from: offset) }, logStartOffset, logEndOffset)
            }
            var result = LogReadResult(bytes: ByteBuffer(), nextOffset: offset, logStartOffset: start, logEndOffset: end)
            var damage: (plan: Segment.ReadPlan, reason: String)?
            for plan in plans {
                let outcome = try Segment.execute(
                    plan, maxBytes: maxBytes - result.bytes.readableBytes, atLeastOneBatch: result.bytes.readableBytes == 0)
                guard case .read(let part) = outcome else {
                    if case .damaged(let reason) = outcome { damage = (plan, reason) }
                    break
                }
                result.bytes.writeImmutableBuffer(part.bytes)
                result.nextOffset = part.nextOffset
                guard part.reachedEnd else { break }
            }
            let current = try locked { () throws(StorageError) -> Bool in
                plans.allSatisfy { $0.segment.generation == $0.generation }
            }
            guard current else { continue }
            if let damage { throw damage.plan.segment.corrupt(damage.reason) }
            return result
        }
        // Truncated under us repeatedly: read with the lock held.
        return try locked { () throws(StorageError) -> LogReadResult in try read(from: offset, maxBytes: maxBytes) }
    }

    /// The first offset whose record timestamp is at least `timestamp`, or `nil`.
    func offset(forTimestamp timestamp: Int64) throws(StorageError) -> Int64? {
        try ensureOpen()
        for segment in segments where !segment.isEmpty && segment.maxTimestamp >= timestamp {
            if let offset = try segment.offset(forTimestamp: timestamp) { return offset }
        }
        return nil
    }

    /// Removes everything at or after `offset` (whole batches) and returns the new log end.
    /// Later segments are deleted newest first, so a crash midway leaves a consistent prefix.
    func truncate(to offset: Int64) throws(StorageError) -> Int64 {
        try ensureOpen()
        guard offset < logEndOffset else { return logEndOffset }
        // Appends still waiting for their group commit lose their data: fail them now.
        let lost = awaitingSync.filter { $0.result.lastOffset >= offset }
        awaitingSync.removeAll { $0.result.lastOffset >= offset }
        for entry in lost { entry.promise.fail(StorageError.appendTruncated(baseOffset: entry.result.baseOffset)) }
        logger.warning("truncating log", metadata: ["offset": "\(offset)", "logEndOffset": "\(logEndOffset)"])
        if offset <= logStartOffset {
            // Everything goes: the log restarts empty at `offset`.
            for segment in segments.reversed() {
                try segment.delete()
                metrics.segmentsDeleted.increment()
            }
            segments = [try Segment.create(directory: directory, baseOffset: offset, options: segmentOptions, logger: logger)]
        } else {
            // segments[0].baseOffset < offset, so the loop keeps at least one segment.
            while active.baseOffset >= offset {
                try segments.removeLast().delete()
                metrics.segmentsDeleted.increment()
            }
            _ = try active.truncate(to: offset)
            active.unseal()
        }
        try StorageFile.syncDirectory(directory)
        syncedEndOffset = min(syncedEndOffset, logEndOffset)
        return logEndOffset
    }

    /// Deletes the oldest sealed segments that are past the time or size retention; returns the
    /// base offsets deleted.
    func enforceRetention() throws(StorageError) -> [Int64] {
        try ensureOpen()
        var deleted: [Int64] = []
        var total = totalBytes
        let now = clock()
        while segments.count > 1 {
            let oldest = segments[0]
            var expired = false
            if let retention = configuration.retentionMilliseconds, oldest.maxTimestamp < now - retention {
                expired = true
            }
            if let retention = configuration.retentionBytes, total - oldest.size >= retention {
                expired = true
            }
            guard expired else { break }
            try oldest.delete()
            segments.removeFirst()
            total -= oldest.size
            deleted.append(oldest.baseOffset)
            metrics.segmentsDeleted.increment()
        }
        if !deleted.isEmpty {
            try StorageFile.syncDirectory(directory)
            logger.info("retention deleted segments", metadata: ["segments": "\(deleted)", "logStartOffset": "\(logStartOffset)"])
        }
        return deleted
    }

    /// Releases the segments' files; later calls fail with ``StorageError/closed``.
    func close() {
        isClosed = true
        segments = [active]
    }
}
