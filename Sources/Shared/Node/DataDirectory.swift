#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A node's data directory, created if missing and held with an exclusive `flock` on its
/// `LOCK` file for the life of the process, so two processes never write the same state.
public final class DataDirectory: Sendable {
    /// Why the directory could not be opened.
    public enum OpenError: Error, Equatable, CustomStringConvertible {
        /// The directory could not be created or is not a directory.
        case notUsable(path: String, reason: String)
        /// Another process holds the lock.
        case inUse(path: String, holder: String)

        public var description: String {
            switch self {
            case .notUsable(let path, let reason): "data directory '\(path)' is not usable: \(reason)"
            case .inUse(let path, let holder):
                "data directory '\(path)' is in use by another tributary process (\(holder)); stop it or choose another --data-dir"
            }
        }
    }

    /// The absolute path of the directory.
    public let path: String
    private let lockDescriptor: Int32

    /// Creates (if needed) and locks the directory.
    public init(path: String) throws(OpenError) {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        do {
            try FileManager.default.createDirectory(atPath: absolute, withIntermediateDirectories: true)
        } catch {
            throw .notUsable(path: path, reason: error.localizedDescription)
        }
        let lockPath = absolute + "/LOCK"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw .notUsable(path: path, reason: "cannot open \(lockPath): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: lockPath, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw .inUse(path: path, holder: holder.map { $0.isEmpty ? "unknown pid" : $0 } ?? "unknown pid")
        }
        let note = "pid \(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = note.withCString { pwrite(fd, $0, strlen($0), 0) }
        self.path = absolute
        self.lockDescriptor = fd
    }

    /// A path inside the directory.
    public func child(_ name: String) -> String {
        path + "/" + name
    }

    deinit {
        flock(lockDescriptor, LOCK_UN)
        close(lockDescriptor)
    }
}
