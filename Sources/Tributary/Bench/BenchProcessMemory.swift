import Foundation

/// The resident memory of another process on this machine (Linux `/proc/<pid>/status`), for
/// `tributary bench mqtt conn --broker-pid`.
enum BenchProcessMemory {
    /// `VmRSS` of process `pid` in KiB, or `nil` when it cannot be read.
    static func residentKiB(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2 else { return nil }
            return Int(fields[1])
        }
        return nil
    }
}
