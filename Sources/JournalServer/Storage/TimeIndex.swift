import NIOCore
import Shared

/// A segment's sparse time index: each entry says "every batch up to and including the one at
/// this relative offset has timestamps at most `timestamp`". Entries are added alongside offset
/// index entries, with the running maximum timestamp, so timestamps are non-decreasing and a
/// lookup for time `t` can start scanning at the last entry whose timestamp is below `t`.
///
/// File `<base>.timeindex`: 12-byte entries, timestamp `Int64` (ms) and relative offset
/// `UInt32`, big-endian.
///
/// Not thread-safe: confined to its segment's owner.
final class TimeIndex: @unchecked Sendable {
    /// One index entry.
    struct Entry: Equatable, Sendable {
        var timestamp: Int64
        var relativeOffset: UInt32
    }

    static let entrySize = 12

    let file: StorageFile
    private(set) var entries: [Entry] = []

    init(file: StorageFile) {
        self.file = file
    }

    /// Parses the index file; throws if it is malformed or not ordered.
    func load() throws(StorageError) {
        let size = try file.size()
        guard size % Self.entrySize == 0 else { throw .invalidIndex(path: file.path, reason: "size \(size) is not a multiple of \(Self.entrySize)") }
        var buffer = try file.read(at: 0, count: size)
        var loaded: [Entry] = []
        loaded.reserveCapacity(size / Self.entrySize)
        while let timestamp = buffer.readInteger(as: Int64.self), let relative = buffer.readInteger(as: UInt32.self) {
            let entry = Entry(timestamp: timestamp, relativeOffset: relative)
            if let last = loaded.last, entry.timestamp < last.timestamp || entry.relativeOffset <= last.relativeOffset {
                throw .invalidIndex(path: file.path, reason: "entries are not ordered")
            }
            loaded.append(entry)
        }
        self.entries = loaded
    }

    /// Adds an entry (in memory and in the file).
    func append(_ entry: Entry) throws(StorageError) {
        var buffer = ByteBufferAllocator().buffer(capacity: Self.entrySize)
        buffer.writeInteger(entry.timestamp)
        buffer.writeInteger(entry.relativeOffset)
        try file.write(buffer, at: entries.count * Self.entrySize)
        entries.append(entry)
    }

    /// The last entry whose timestamp is strictly below `timestamp`: every batch up to it is
    /// older than `timestamp`, so a search may start at its batch.
    func lastBefore(_ timestamp: Int64) -> Entry? {
        let after = entries.partitionPoint { $0.timestamp >= timestamp }
        return after == 0 ? nil : entries[after - 1]
    }

    /// Drops entries whose relative offset is at or after `relativeOffset`.
    func truncate(toRelativeOffset relativeOffset: UInt32) throws(StorageError) {
        let kept = entries.prefix { $0.relativeOffset < relativeOffset }
        guard kept.count != entries.count else { return }
        entries = Array(kept)
        try file.truncate(to: entries.count * Self.entrySize)
    }

    /// Replaces the index with `newEntries`, rewriting and fsyncing the file.
    func replace(with newEntries: [Entry]) throws(StorageError) {
        var buffer = ByteBufferAllocator().buffer(capacity: newEntries.count * Self.entrySize)
        for entry in newEntries {
            buffer.writeInteger(entry.timestamp)
            buffer.writeInteger(entry.relativeOffset)
        }
        try file.replaceContent(with: buffer)
        entries = newEntries
    }
}
