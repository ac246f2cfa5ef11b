#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Thin, throwing wrappers over the POSIX calls the storage layer needs. Blocking: call them on
/// a storage thread, never on an event loop.
enum FileIO {
    static func error(_ path: String, _ operation: String) -> MetaStorageError {
        let code = errno
        return .io(path: path, operation: operation, errno: code, message: String(cString: strerror(code)))
    }

    static func open(_ path: String, flags: Int32, mode: mode_t = 0o644) throws(MetaStorageError) -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else { throw error(path, "open") }
        return fd
    }

    /// Writes all readable bytes of `buffer` at the current offset, retrying partial writes.
    static func writeAll(_ fd: Int32, _ buffer: ByteBuffer, path: String) throws(MetaStorageError) {
        var failure: MetaStorageError?
        buffer.withUnsafeReadableBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = error(path, "write")
                    return
                }
                done += n
            }
        }
        if let failure { throw failure }
    }

    static func sync(_ fd: Int32, path: String) throws(MetaStorageError) {
        guard fdatasync(fd) == 0 else { throw error(path, "fdatasync") }
    }

    /// Makes a directory's entries (created, renamed, removed files) durable.
    static func syncDirectory(_ path: String) throws(MetaStorageError) {
        let fd = try open(path, flags: O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw error(path, "fsync") }
    }

    static func truncate(_ fd: Int32, to length: Int, path: String) throws(MetaStorageError) {
        guard ftruncate(fd, off_t(length)) == 0 else { throw error(path, "ftruncate") }
        guard lseek(fd, off_t(length), SEEK_SET) >= 0 else { throw error(path, "lseek") }
    }

    /// Reads a whole file.
    static func readAll(_ path: String) throws(MetaStorageError) -> ByteBuffer {
        let fd = try open(path, flags: O_RDONLY)
        defer { close(fd) }
        let size = try self.size(fd, path: path)
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw error(path, "lseek") }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(size)
        var failure: MetaStorageError?
        var reachedEnd = false
        while !reachedEnd {
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1 << 20) { raw in
                while true {
                    let n = Glibc.read(fd, raw.baseAddress!, raw.count)
                    if n < 0 && errno == EINTR { continue }
                    if n < 0 { failure = error(path, "read") }
                    if n <= 0 { reachedEnd = true }
                    return max(n, 0)
                }
            }
            if let failure { throw failure }
        }
        return buffer
    }

    /// The size of an open file (moves the offset to the end).
    static func size(_ fd: Int32, path: String) throws(MetaStorageError) -> Int {
        let end = lseek(fd, 0, SEEK_END)
        guard end >= 0 else { throw error(path, "lseek") }
        return Int(end)
    }

    /// The names in a directory.
    static func list(_ path: String) throws(MetaStorageError) -> [String] {
        guard let dir = opendir(path) else { throw error(path, "opendir") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func makeDirectory(_ path: String) throws(MetaStorageError) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw error(path, "mkdir") }
    }

    static func remove(_ path: String) throws(MetaStorageError) {
        guard unlink(path) == 0 else { throw error(path, "unlink") }
    }

    static func rename(_ from: String, _ to: String) throws(MetaStorageError) {
        guard Glibc.rename(from, to) == 0 else { throw error(from, "rename") }
    }
}
