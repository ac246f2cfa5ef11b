import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file opened for positional reads and writes with plain POSIX calls (`pread`, `pwrite`,
/// `fsync`, `ftruncate`).
///
/// Every call blocks, so callers run them on an `NIOThreadPool` thread, never on an event loop.
/// Positional IO has no shared file cursor, so concurrent reads and writes at different
/// positions are safe; the descriptor is closed when the last reference goes away, which keeps
/// an fsync or read that is already under way valid even if the segment is deleted meanwhile.
final class StorageFile: Sendable {
    let path: String
    private let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit {
        _ = close(self.descriptor)
    }

    /// Opens (and with `create`, creates) `path` for reading and writing.
    static func open(_ path: String, create: Bool) throws(StorageError) -> StorageFile {
        var flags = O_RDWR | O_CLOEXEC
        if create { flags |= O_CREAT }
        let fd = retryingEINTR { systemOpen(path, flags, 0o644) }
        guard fd >= 0 else { throw .io(operation: "open", path: path, errno: errno) }
        return StorageFile(path: path, descriptor: fd)
    }

    /// Whether `path` exists.
    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// The file's size in bytes.
    func size() throws(StorageError) -> Int {
        // lseek rather than fstat: this file uses positional IO only, so moving the offset is harmless.
        let end = lseek(self.descriptor, 0, SEEK_END)
        guard end >= 0 else { throw .io(operation: "lseek", path: path, errno: errno) }
        return Int(end)
    }

    /// Writes all readable bytes of `buffer` at `offset`.
    func write(_ buffer: ByteBuffer, at offset: Int) throws(StorageError) {
        let failure: Int32? = buffer.withUnsafeReadableBytes { raw -> Int32? in
            var done = 0
            while done < raw.count {
                let n = pwrite(self.descriptor, raw.baseAddress.map { $0 + done }, raw.count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                done += n
            }
            return nil
        }
        if let failure { throw .io(operation: "pwrite", path: path, errno: failure) }
    }

    /// Reads up to `count` bytes at `offset`; fewer only at end of file.
    func read(at offset: Int, count: Int) throws(StorageError) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        guard count > 0 else { return buffer }
        var failure: Int32?
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
            var done = 0
            while done < count {
                let n = pread(self.descriptor, raw.baseAddress.map { $0 + done }, count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return 0
                }
                if n == 0 { break }
                done += n
            }
            return done
        }
        if let failure { throw .io(operation: "pread", path: path, errno: failure) }
        return buffer
    }

    /// Flushes data and metadata to stable storage.
    func sync() throws(StorageError) {
        guard retryingEINTR({ fsync(self.descriptor) }) == 0 else { throw .io(operation: "fsync", path: path, errno: errno) }
    }

    /// Cuts or extends the file to `size` bytes.
    func truncate(to size: Int) throws(StorageError) {
        guard retryingEINTR({ ftruncate(self.descriptor, off_t(size)) }) == 0 else {
            throw .io(operation: "ftruncate", path: path, errno: errno)
        }
    }

    /// Replaces the whole content of the file with `buffer` and fsyncs it.
    func replaceContent(with buffer: ByteBuffer) throws(StorageError) {
        try self.truncate(to: 0)
        try self.write(buffer, at: 0)
        try self.sync()
    }

    /// Removes `path` (missing files are fine).
    static func remove(_ path: String) throws(StorageError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw .io(operation: "unlink", path: path, errno: errno) }
    }

    /// Creates the directory `path` if needed.
    static func makeDirectory(_ path: String) throws(StorageError) {
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw .io(operation: "mkdir", path: path, errno: errno) }
    }

    /// Fsyncs a directory so that file creations and removals in it are durable.
    static func syncDirectory(_ path: String) throws(StorageError) {
        let fd = retryingEINTR { systemOpen(path, O_RDONLY | O_CLOEXEC, 0) }
        guard fd >= 0 else { throw .io(operation: "open", path: path, errno: errno) }
        defer { _ = close(fd) }
        guard retryingEINTR({ fsync(fd) }) == 0 else { throw .io(operation: "fsync", path: path, errno: errno) }
    }

    /// The names of the entries of directory `path`.
    static func listDirectory(_ path: String) throws(StorageError) -> [String] {
        guard let dir = opendir(path) else { throw .io(operation: "opendir", path: path, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    private static func retryingEINTR(_ body: () -> Int32) -> Int32 {
        while true {
            let result = body()
            if result >= 0 || errno != EINTR { return result }
        }
    }

    private func retryingEINTR(_ body: () -> Int32) -> Int32 {
        Self.retryingEINTR(body)
    }
}

private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    open(path, flags, mode)
}
