import NIOCore
import Shared

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Blocking file helpers of the store; they run on the thread pool only.
enum ShardFiles {
    /// The settings file in every shard directory.
    static let settingsFileName = "shard.settings"
    private static let magic: UInt32 = 0x5452_5348  // "TRSH"
    private static let version: UInt8 = 1

    /// Creates `path` and its parents as needed.
    static func makeDirectories(_ path: String) throws(StorageError) {
        var prefix = ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            try StorageFile.makeDirectory(path.hasPrefix("/") ? prefix : String(prefix.dropFirst()))
        }
    }

    /// Writes the settings file durably (file and directory fsynced).
    static func writeSettings(_ settings: ShardSettings, directory: String) throws(StorageError) {
        var body = ByteBuffer()
        settings.encode(into: &body)
        var buffer = ByteBuffer()
        buffer.writeInteger(magic)
        buffer.writeInteger(version)
        buffer.writeLengthPrefixed(bytes: body)
        buffer.writeInteger(body.crc32cOfReadableBytes)
        let file = try StorageFile.open(directory + "/" + settingsFileName, create: true)
        try file.replaceContent(with: buffer)
        try StorageFile.syncDirectory(directory)
    }

    /// Reads the settings file, or `nil` if it is missing or unreadable.
    static func readSettings(directory: String) -> ShardSettings? {
        let path = directory + "/" + settingsFileName
        guard StorageFile.exists(path),
            let file = try? StorageFile.open(path, create: false),
            let size = try? file.size(), size < 4096,
            var buffer = try? file.read(at: 0, count: size)
        else { return nil }
        do {
            guard try buffer.readFixed("magic", as: UInt32.self) == magic,
                try buffer.readFixed("version", as: UInt8.self) == version
            else { return nil }
            var body = try buffer.readLengthPrefixedSlice("settings", limit: 4096)
            let crc = try buffer.readFixed("crc", as: UInt32.self)
            guard crc == body.crc32cOfReadableBytes else { return nil }
            return try ShardSettings(decoding: &body)
        } catch {
            return nil
        }
    }

    /// The segments in a shard directory (base offset and log file size), oldest first.
    static func segments(directory: String) throws(StorageError) -> [ShardDescription.Segment] {
        var segments: [ShardDescription.Segment] = []
        for name in try StorageFile.listDirectory(directory) where name.hasSuffix(".log") {
            guard let base = Int64(name.dropLast(4)) else { continue }
            // A segment deleted by retention meanwhile is simply not listed.
            guard let file = try? StorageFile.open(directory + "/" + name, create: false), let size = try? file.size() else {
                continue
            }
            segments.append(ShardDescription.Segment(baseOffset: base, sizeInBytes: size))
        }
        return segments.sorted { $0.baseOffset < $1.baseOffset }
    }

    /// Removes a shard directory and everything in it.
    static func removeDirectory(_ directory: String) throws(StorageError) {
        guard StorageFile.exists(directory) else { return }
        for name in try StorageFile.listDirectory(directory) {
            try StorageFile.remove(directory + "/" + name)
        }
        guard rmdir(directory) == 0 || errno == ENOENT else {
            throw .io(operation: "rmdir", path: directory, errno: errno)
        }
    }
}
