#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore

/// The Raft write-ahead log: a directory of segment files `wal-<sequence>.log` holding
/// ``WALRecord``s, each with its own CRC-32C.
///
/// Durability contract: ``append(_:)`` only buffers into the OS; records are durable once
/// ``sync()`` returns. The Raft driver appends a whole `Ready` (entries and hard state) and syncs
/// once — group commit — before it sends the messages that depend on it.
///
/// Recovery (``open(directory:segmentBytes:logger:)``): every segment is read in order; in the
/// last segment a torn tail (a record cut short, or a bad final record, or zeros to the end) is
/// truncated and logged; damage anywhere else is ``MetaStorageError/corrupt(path:offset:reason:)``.
///
/// Not thread-safe: one storage thread owns it. Blocking: never call it on an event loop.
public final class WriteAheadLog {
    /// The state recovered from disk at open.
    public struct Recovered: Equatable, Sendable {
        /// The last durable hard state, if any was written.
        public var hardState: (term: UInt64, vote: UInt64, commit: UInt64)?
        /// The last durable snapshot marker, if any.
        public var snapshot: (index: UInt64, term: UInt64)?
        /// The live entries after the snapshot, in index order, conflicts resolved.
        public var entries: [(index: UInt64, term: UInt64, payload: [UInt8])]
        /// Bytes cut off a torn tail (0 when the log was closed cleanly).
        public var truncatedBytes: Int

        public static func == (a: Recovered, b: Recovered) -> Bool {
            a.hardState.map { [$0.term, $0.vote, $0.commit] } == b.hardState.map { [$0.term, $0.vote, $0.commit] }
                && a.snapshot.map { [$0.index, $0.term] } == b.snapshot.map { [$0.index, $0.term] }
                && a.entries.map(\.index) == b.entries.map(\.index) && a.entries.map(\.term) == b.entries.map(\.term)
                && a.entries.map(\.payload) == b.entries.map(\.payload) && a.truncatedBytes == b.truncatedBytes
        }
    }

    private struct Segment {
        var sequence: UInt64
        var path: String
        var maxEntryIndex: UInt64
    }

    private let directory: String
    private let segmentBytes: Int
    private let logger: Logger
    private var segments: [Segment]
    private var fd: Int32
    private var currentSize: Int
    private var pending = ByteBuffer()
    private var lastHardState: WALRecord?
    private var lastSnapshot: WALRecord?
    private var failure: String?

    /// Opens (creating if needed) the log in `directory` and recovers its contents.
    public static func open(
        directory: String,
        segmentBytes: Int = 64 << 20,
        logger: Logger
    ) throws(MetaStorageError) -> (WriteAheadLog, Recovered) {
        try FileIO.makeDirectory(directory)
        let names = try FileIO.list(directory).filter { $0.hasPrefix("wal-") && $0.hasSuffix(".log") }.sorted()
        var recovered = Recovered(hardState: nil, snapshot: nil, entries: [], truncatedBytes: 0)
        var segments: [Segment] = []
        for (position, name) in names.enumerated() {
            let path = directory + "/" + name
            guard let sequence = UInt64(name.dropFirst(4).dropLast(4)) else { continue }
            let isLast = position == names.count - 1
            let maxIndex = try replay(path: path, isLast: isLast, into: &recovered, logger: logger)
            segments.append(Segment(sequence: sequence, path: path, maxEntryIndex: maxIndex))
        }
        if segments.isEmpty {
            let path = directory + "/" + segmentName(1)
            let fd = try FileIO.open(path, flags: O_WRONLY | O_CREAT | O_EXCL)
            close(fd)
            try FileIO.syncDirectory(directory)
            segments.append(Segment(sequence: 1, path: path, maxEntryIndex: 0))
        }
        let last = segments[segments.count - 1]
        let fd = try FileIO.open(last.path, flags: O_WRONLY | O_APPEND)
        let size = try FileIO.size(fd, path: last.path)
        let wal = WriteAheadLog(directory: directory, segmentBytes: segmentBytes, logger: logger,
                                segments: segments, fd: fd, currentSize: size)
        if let hs = recovered.hardState { wal.lastHardState = .hardState(term: hs.term, vote: hs.vote, commit: hs.commit) }
        if let snap = recovered.snapshot { wal.lastSnapshot = .snapshot(index: snap.index, term: snap.term) }
        return (wal, recovered)
    }

    private init(directory: String, segmentBytes: Int, logger: Logger, segments: [Segment], fd: Int32, currentSize: Int) {
        self.directory = directory
        self.segmentBytes = segmentBytes
        self.logger = logger
        self.segments = segments
        self.fd = fd
        self.currentSize = currentSize
    }

    deinit {
        close(fd)
    }

    static func segmentName(_ sequence: UInt64) -> String {
        let digits = String(sequence)
        return "wal-" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits + ".log"
    }

    /// Reads one segment into `recovered`; returns its highest entry index.
    private static func replay(path: String, isLast: Bool, into recovered: inout Recovered, logger: Logger) throws(MetaStorageError) -> UInt64 {
        var buffer = try FileIO.readAll(path)
        let fileSize = buffer.readableBytes
        var maxIndex: UInt64 = 0
        while buffer.readableBytes > 0 {
            let offset = fileSize - buffer.readableBytes
            switch WALRecord.read(from: buffer) {
            case .record(let record, let size):
                buffer.moveReaderIndex(forwardBy: size)
                apply(record, to: &recovered)
                if case .entry(let index, _, _) = record { maxIndex = max(maxIndex, index) }
            case .incomplete, .invalid, .badHeader:
                // Torn: the record's intact header promises more bytes than the file holds, or
                // only zeros follow the bad record (the crash hit the last write). Anything else
                // after a bad record is damage to synced data.
                let result = WALRecord.read(from: buffer)
                let declared = Int(buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) ?? 0)
                let after = result == .badHeader ? 0 : min(buffer.readableBytes, WALRecord.headerBytes + declared)
                let followedByZeros = buffer.readableBytesView.dropFirst(after).allSatisfy { $0 == 0 }
                let torn = isLast && (result == .incomplete || followedByZeros)
                guard torn else {
                    let reason: String
                    switch result {
                    case .invalid(let why): reason = why
                    case .badHeader: reason = "damaged record header"
                    default: reason = "record cut short before the end of a sealed segment"
                    }
                    throw .corrupt(path: path, offset: offset, reason: reason)
                }
                let fd = try FileIO.open(path, flags: O_WRONLY)
                defer { close(fd) }
                try FileIO.truncate(fd, to: offset, path: path)
                try FileIO.sync(fd, path: path)
                recovered.truncatedBytes += fileSize - offset
                logger.warning("truncated a torn write-ahead log tail", metadata: [
                    "file": "\(path)", "offset": "\(offset)", "bytes": "\(fileSize - offset)",
                ])
                return maxIndex
            }
        }
        return maxIndex
    }

    private static func apply(_ record: WALRecord, to recovered: inout Recovered) {
        switch record {
        case .entry(let index, let term, let payload):
            if let firstKept = recovered.entries.firstIndex(where: { $0.index >= index }) {
                recovered.entries.removeSubrange(firstKept...)
            }
            recovered.entries.append((index, term, payload))
        case .hardState(let term, let vote, let commit):
            recovered.hardState = (term, vote, commit)
        case .snapshot(let index, let term):
            recovered.snapshot = (index, term)
            recovered.entries.removeAll { $0.index <= index }
        }
    }

    /// Buffers records for the next ``sync()``; rolls to a new segment when the current one is full.
    public func append(_ records: [WALRecord]) throws(MetaStorageError) {
        if let failure { throw .failed(reason: failure) }
        for record in records {
            record.write(into: &pending)
            switch record {
            case .entry(let index, _, _):
                segments[segments.count - 1].maxEntryIndex = max(segments[segments.count - 1].maxEntryIndex, index)
            case .hardState: lastHardState = record
            case .snapshot: lastSnapshot = record
            }
        }
        if currentSize + pending.readableBytes >= segmentBytes {
            try flushPending()
            try roll()
        }
    }

    /// Writes buffered records and makes them durable (fdatasync).
    public func sync() throws(MetaStorageError) {
        if let failure { throw .failed(reason: failure) }
        try flushPending()
        do {
            try FileIO.sync(fd, path: segments[segments.count - 1].path)
        } catch {
            failure = error.description
            throw error
        }
    }

    /// Writes buffered records to the file without waiting for durability (they survive the
    /// process, not an OS crash, until the next ``sync()``).
    public func write() throws(MetaStorageError) {
        if let failure { throw .failed(reason: failure) }
        try flushPending()
    }

    private func flushPending() throws(MetaStorageError) {
        guard pending.readableBytes > 0 else { return }
        do {
            try FileIO.writeAll(fd, pending, path: segments[segments.count - 1].path)
        } catch {
            failure = error.description
            throw error
        }
        currentSize += pending.readableBytes
        pending.clear()
    }

    /// Seals the current segment (fsync) and starts the next one, which begins with the latest
    /// hard state and snapshot marker so that older segments can be deleted independently.
    private func roll() throws(MetaStorageError) {
        let current = segments[segments.count - 1]
        try FileIO.sync(fd, path: current.path)
        let next = current.sequence + 1
        let path = directory + "/" + Self.segmentName(next)
        let newFD = try FileIO.open(path, flags: O_WRONLY | O_CREAT | O_EXCL | O_APPEND)
        close(fd)
        fd = newFD
        currentSize = 0
        segments.append(Segment(sequence: next, path: path, maxEntryIndex: 0))
        try FileIO.syncDirectory(directory)
        for record in [lastSnapshot, lastHardState].compactMap({ $0 }) {
            record.write(into: &pending)
        }
        logger.debug("rolled write-ahead log segment", metadata: ["file": "\(path)"])
    }

    /// Deletes sealed segments whose entries all lie at or below `index`. Call only after a
    /// snapshot at `index` or later is durable and its marker has been appended and synced.
    public func compact(through index: UInt64) throws(MetaStorageError) {
        var removed = false
        while segments.count > 1, segments[0].maxEntryIndex <= index {
            try FileIO.remove(segments[0].path)
            logger.debug("removed compacted write-ahead log segment", metadata: ["file": "\(segments[0].path)"])
            segments.removeFirst()
            removed = true
        }
        if removed { try FileIO.syncDirectory(directory) }
    }

    /// The number of segment files (for tests and metrics).
    public var segmentCount: Int { segments.count }
}
