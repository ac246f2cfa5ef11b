import Logging
import NIOCore
import Synchronization

/// One segment of a shard's local log: the file `<baseOffset, 20 digits>.log` holding record
/// batches back to back, with its sparse offset index (`.index`) and time index (`.timeindex`).
///
/// A segment is *active* (appendable) or *sealed* (read-only, indexes trimmed and fsynced). A
/// segment that fails an integrity check is *corrupt*: it is never served and never appended to,
/// and ``corruption`` says why, so replication can repair it from a replica.
///
/// Segments do blocking file IO and are not thread-safe: the owning ``SegmentLog`` confines each
/// segment to its serial work queue on an `NIOThreadPool`.
final class Segment: @unchecked Sendable {
    /// Settings a segment needs from its log.
    struct Options: Sendable {
        var indexIntervalBytes: Int
        var maxBatchBytes: Int
    }

    let baseOffset: Int64
    let directory: String
    let options: Options
    let logger: Logger
    let logFile: StorageFile
    let offsetIndex: OffsetIndex
    let timeIndex: TimeIndex
    private(set) var tail: SegmentTail
    private(set) var isSealed = false
    /// Why the segment is corrupt (guarded: concurrent readers may set it).
    private let corruptionReason = Mutex<String?>(nil)
    /// Why the segment is corrupt, or `nil` if it is healthy.
    var corruption: String? { corruptionReason.withLock { $0 } }
    /// Incremented when bytes that readers may already have planned to read change
    /// (truncation); a concurrent read planned against an older generation is retried.
    private(set) var generation = 0
    /// Whether data was written since the last fsync of the log file.
    private(set) var hasUnsyncedData = false

    /// Bytes of valid data.
    var size: Int { tail.size }
    /// The offset right after the segment's last record (its base offset when empty).
    var nextOffset: Int64 { tail.nextOffset }
    /// The largest record timestamp (`Int64.min` when empty).
    var maxTimestamp: Int64 { tail.maxTimestamp }
    /// Whether the segment holds no batch.
    var isEmpty: Bool { tail.size == 0 }

    init(
        baseOffset: Int64, directory: String, options: Options, logger: Logger,
        logFile: StorageFile, offsetIndex: OffsetIndex, timeIndex: TimeIndex
    ) {
        self.baseOffset = baseOffset
        self.directory = directory
        self.options = options
        var logger = logger
        logger[metadataKey: "segment"] = "\(baseOffset)"
        self.logger = logger
        self.logFile = logFile
        self.offsetIndex = offsetIndex
        self.timeIndex = timeIndex
        self.tail = SegmentTail(baseOffset: baseOffset)
    }

    /// The file name stem of a segment: the base offset as 20 decimal digits.
    static func fileStem(_ baseOffset: Int64) -> String {
        let digits = String(baseOffset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// Paths of the segment's three files.
    static func paths(directory: String, baseOffset: Int64) -> (log: String, index: String, timeIndex: String) {
        let stem = directory + "/" + fileStem(baseOffset)
        return (stem + ".log", stem + ".index", stem + ".timeindex")
    }

    /// Creates a new, empty, active segment (replacing any files at its paths).
    static func create(directory: String, baseOffset: Int64, options: Options, logger: Logger) throws(StorageError) -> Segment {
        let paths = paths(directory: directory, baseOffset: baseOffset)
        let segment = Segment(
            baseOffset: baseOffset, directory: directory, options: options, logger: logger,
            logFile: try StorageFile.open(paths.log, create: true),
            offsetIndex: OffsetIndex(file: try StorageFile.open(paths.index, create: true)),
            timeIndex: TimeIndex(file: try StorageFile.open(paths.timeIndex, create: true)))
        try segment.logFile.truncate(to: 0)
        try segment.offsetIndex.replace(with: [])
        try segment.timeIndex.replace(with: [])
        try segment.logFile.sync()
        segment.logger.debug("created segment")
        return segment
    }

    /// Appends one encoded batch whose `baseOffset` must be ``nextOffset``.
    func append(_ batch: ByteBuffer, header: RecordBatchHeader) throws(StorageError) {
        guard corruption == nil else { throw .logCorrupt(baseOffset: baseOffset) }
        guard !isSealed else { throw .segmentSealed(baseOffset: baseOffset) }
        guard header.baseOffset == tail.nextOffset else {
            throw .nonContiguousAppend(expected: tail.nextOffset, got: header.baseOffset)
        }
        try logFile.write(batch, at: tail.size)
        hasUnsyncedData = true
        if let (offsetEntry, timeEntry) = tail.note(header, baseOffset: baseOffset, indexIntervalBytes: options.indexIntervalBytes) {
            try offsetIndex.append(offsetEntry)
            try timeIndex.append(timeEntry)
        }
    }

    /// Fsyncs the log file if it has unsynced data; returns whether an fsync ran.
    @discardableResult
    func syncIfNeeded() throws(StorageError) -> Bool {
        guard hasUnsyncedData else { return false }
        try logFile.sync()
        hasUnsyncedData = false
        return true
    }

    /// Makes the segment read-only: fsyncs the log, trims the indexes to their entries and fsyncs
    /// them. Returns whether the log file needed an fsync.
    @discardableResult
    func seal() throws(StorageError) -> Bool {
        guard !isSealed else { return false }
        let synced = try syncIfNeeded()
        try offsetIndex.file.truncate(to: offsetIndex.entries.count * OffsetIndex.entrySize)
        try timeIndex.file.truncate(to: timeIndex.entries.count * TimeIndex.entrySize)
        try offsetIndex.file.sync()
        try timeIndex.file.sync()
        isSealed = true
        logger.debug("sealed segment", metadata: ["size": "\(tail.size)", "nextOffset": "\(tail.nextOffset)"])
        return synced
    }

    /// Makes a sealed segment appendable again (after a truncation made it the last segment).
    func unseal() {
        isSealed = false
    }

    /// Marks the segment corrupt; it is not served or appended to from now on.
    func markCorrupt(_ reason: String) {
        let isNew = corruptionReason.withLock { current -> Bool in
            guard current == nil else { return false }
            current = reason
            return true
        }
        guard isNew else { return }
        logger.error("segment is corrupt; it will not be served until repaired", metadata: ["reason": "\(reason)"])
    }

    /// Removes the segment's files.
    func delete() throws(StorageError) {
        let paths = Self.paths(directory: directory, baseOffset: baseOffset)
        try StorageFile.remove(paths.log)
        try StorageFile.remove(paths.index)
        try StorageFile.remove(paths.timeIndex)
        logger.info("deleted segment", metadata: ["nextOffset": "\(tail.nextOffset)"])
    }

    /// Replaces the tail state (used by recovery and truncation).
    func restore(tail: SegmentTail) {
        self.tail = tail
    }

    /// Records that readable bytes are about to change (truncation).
    func bumpGeneration() {
        generation += 1
    }

    /// Records that the log file content changed without an fsync yet.
    func markUnsynced() {
        hasUnsyncedData = true
    }

    /// Records that the log file was just fsynced.
    func markSynced() {
        hasUnsyncedData = false
    }
}
