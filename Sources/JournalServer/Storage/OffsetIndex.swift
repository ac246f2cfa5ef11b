import NIOCore
import Shared

/// A segment's sparse offset index: entries map an offset (relative to the segment's base
/// offset) to the file position of the batch that starts there. One entry is added every
/// `indexIntervalBytes` of log data, so a lookup lands at most that many bytes before the batch
/// it wants and scans forward over batch headers.
///
/// File `<base>.index`: a sequence of 8-byte entries, relative offset `UInt32` and position
/// `UInt32`, big-endian, both strictly increasing. The in-memory copy is authoritative; the file
/// is append-only and rewritten whole when it is rebuilt or truncated.
///
/// Not thread-safe: confined to its segment's owner.
final class OffsetIndex: @unchecked Sendable {
    /// One index entry.
    struct Entry: Equatable, Sendable {
        var relativeOffset: UInt32
        var position: UInt32
    }

    static let entrySize = 8

    let file: StorageFile
    private(set) var entries: [Entry] = []

    init(file: StorageFile) {
        self.file = file
    }

    /// Parses the index file; throws if it is not a well-formed, strictly increasing index whose
    /// positions lie inside a log of `logSize` bytes.
    func load(logSize: Int) throws(StorageError) {
        let size = try file.size()
        guard size % Self.entrySize == 0 else { throw .invalidIndex(path: file.path, reason: "size \(size) is not a multiple of \(Self.entrySize)") }
        var buffer = try file.read(at: 0, count: size)
        var loaded: [Entry] = []
        loaded.reserveCapacity(size / Self.entrySize)
        while let relative = buffer.readInteger(as: UInt32.self), let position = buffer.readInteger(as: UInt32.self) {
            let entry = Entry(relativeOffset: relative, position: position)
            if let last = loaded.last, entry.relativeOffset <= last.relativeOffset || entry.position <= last.position {
                throw .invalidIndex(path: file.path, reason: "entries are not increasing")
            }
            guard Int(position) < max(logSize, 1) else { throw .invalidIndex(path: file.path, reason: "position \(position) beyond log size \(logSize)") }
            loaded.append(entry)
        }
        self.entries = loaded
    }

    /// Adds an entry (in memory and in the file).
    func append(_ entry: Entry) throws(StorageError) {
        var buffer = ByteBufferAllocator().buffer(capacity: Self.entrySize)
        buffer.writeInteger(entry.relativeOffset)
        buffer.writeInteger(entry.position)
        try file.write(buffer, at: entries.count * Self.entrySize)
        entries.append(entry)
    }

    /// The last entry whose relative offset is at most `relativeOffset`.
    func floor(_ relativeOffset: UInt32) -> Entry? {
        let after = entries.partitionPoint { $0.relativeOffset > relativeOffset }
        return after == 0 ? nil : entries[after - 1]
    }

    /// Drops entries at or after file `position` (used when the log is truncated).
    func truncate(toPosition position: Int) throws(StorageError) {
        let kept = entries.prefix { Int($0.position) < position }
        guard kept.count != entries.count else { return }
        entries = Array(kept)
        try file.truncate(to: entries.count * Self.entrySize)
    }

    /// Replaces the index with `newEntries`, rewriting and fsyncing the file.
    func replace(with newEntries: [Entry]) throws(StorageError) {
        var buffer = ByteBufferAllocator().buffer(capacity: newEntries.count * Self.entrySize)
        for entry in newEntries {
            buffer.writeInteger(entry.relativeOffset)
            buffer.writeInteger(entry.position)
        }
        try file.replaceContent(with: buffer)
        entries = newEntries
    }
}
