#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import Shared

/// Raft snapshot files `snapshot-<index>-<term>.snap` in one directory, each written atomically
/// (temporary file, fsync, rename, directory fsync) and protected by a CRC-32C. The newest two
/// are kept. Blocking: call on a storage thread.
///
/// File layout: magic `TSNP` · version UInt8 (1) · index UInt64 · term UInt64 ·
/// length UInt64 · crc UInt32 (CRC-32C of the data) · data. All integers big-endian.
public struct SnapshotStore: Sendable {
    /// A snapshot read back from disk.
    public struct Snapshot: Equatable, Sendable {
        /// Last log index the snapshot covers.
        public var index: UInt64
        /// Term of that index.
        public var term: UInt64
        /// The state machine's serialized state.
        public var data: [UInt8]
    }

    static let magic: UInt32 = 0x5453_4E50
    static let headerBytes = 4 + 1 + 8 + 8 + 8 + 4

    /// The directory holding the snapshot files.
    public let directory: String
    private let logger: Logger

    /// Opens (creating if needed) the snapshot directory and removes leftover temporary files.
    public init(directory: String, logger: Logger) throws(MetaStorageError) {
        self.directory = directory
        self.logger = logger
        try FileIO.makeDirectory(directory)
        for name in try FileIO.list(directory) where name.hasSuffix(".tmp") {
            try FileIO.remove(directory + "/" + name)
        }
    }

    static func fileName(index: UInt64, term: UInt64) -> String {
        func pad(_ v: UInt64) -> String {
            let digits = String(v)
            return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
        }
        return "snapshot-\(pad(index))-\(pad(term)).snap"
    }

    /// Writes a snapshot durably; returns once it is on disk under its final name.
    public func save(_ snapshot: Snapshot) throws(MetaStorageError) {
        var buffer = ByteBuffer()
        buffer.writeInteger(Self.magic)
        buffer.writeInteger(UInt8(1))
        buffer.writeInteger(snapshot.index)
        buffer.writeInteger(snapshot.term)
        buffer.writeInteger(UInt64(snapshot.data.count))
        buffer.writeInteger(CRC32C.checksum(snapshot.data))
        buffer.writeBytes(snapshot.data)
        let name = Self.fileName(index: snapshot.index, term: snapshot.term)
        let temporary = directory + "/" + name + ".tmp"
        let fd = try FileIO.open(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC)
        do {
            try FileIO.writeAll(fd, buffer, path: temporary)
            try FileIO.sync(fd, path: temporary)
        } catch {
            close(fd)
            try? FileIO.remove(temporary)
            throw error
        }
        close(fd)
        try FileIO.rename(temporary, directory + "/" + name)
        try FileIO.syncDirectory(directory)
        try prune(keeping: 2)
    }

    /// The newest snapshot, or nil if there is none. A damaged newest snapshot is an error, not
    /// a silent fall-back: the log entries it replaced may already be compacted away.
    public func loadLatest() throws(MetaStorageError) -> Snapshot? {
        guard let newest = try snapshotNames().last else { return nil }
        return try load(path: directory + "/" + newest)
    }

    func load(path: String) throws(MetaStorageError) -> Snapshot {
        var buffer = try FileIO.readAll(path)
        guard buffer.readableBytes >= Self.headerBytes,
              let magic = buffer.readInteger(as: UInt32.self), magic == Self.magic,
              let version = buffer.readInteger(as: UInt8.self),
              let index = buffer.readInteger(as: UInt64.self),
              let term = buffer.readInteger(as: UInt64.self),
              let length = buffer.readInteger(as: UInt64.self),
              let crc = buffer.readInteger(as: UInt32.self) else {
            throw .corrupt(path: path, offset: 0, reason: "bad snapshot header")
        }
        guard version == 1 else {
            throw .corrupt(path: path, offset: 4, reason: "unsupported snapshot version \(version)")
        }
        guard UInt64(buffer.readableBytes) == length else {
            throw .corrupt(path: path, offset: Self.headerBytes, reason: "declares \(length) bytes of data, holds \(buffer.readableBytes)")
        }
        guard buffer.crc32cOfReadableBytes == crc else {
            throw .corrupt(path: path, offset: Self.headerBytes, reason: "CRC mismatch")
        }
        return Snapshot(index: index, term: term, data: Array(buffer.readableBytesView))
    }

    private func snapshotNames() throws(MetaStorageError) -> [String] {
        try FileIO.list(directory).filter { $0.hasPrefix("snapshot-") && $0.hasSuffix(".snap") }.sorted()
    }

    private func prune(keeping count: Int) throws(MetaStorageError) {
        let names = try snapshotNames()
        guard names.count > count else { return }
        for name in names.dropLast(count) {
            try FileIO.remove(directory + "/" + name)
            logger.debug("removed old snapshot", metadata: ["file": "\(name)"])
        }
        try FileIO.syncDirectory(directory)
    }
}
