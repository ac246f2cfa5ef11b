import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A real `mosquitto` broker on a free loopback port, with a minimal configuration in a
/// temporary directory; killed and cleaned up when released.
final class BenchMQTTMosquitto: @unchecked Sendable {
    /// The mosquitto executable, installing it with scripts/install-test-deps.sh if missing;
    /// `nil` if it cannot be installed.
    static let executable: String? = {
        if let found = find() { return found }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/install-test-deps.sh").path
        let install = Process()
        install.executableURL = URL(fileURLWithPath: "/bin/bash")
        install.arguments = [script]
        if (try? install.run()) != nil {
            install.waitUntilExit()
        }
        return find()
    }()

    /// Why the mosquitto tests are skipped, for the test output.
    static let unavailableReason: Comment =
        "mosquitto is not installed and scripts/install-test-deps.sh could not install it: MQTT benchmark tests skipped"

    private static func find() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/local/sbin", "/opt/homebrew/sbin"]
        return directories.map { $0 + "/mosquitto" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    let port: Int
    let directory: String
    let process = Process()
    private let output = TributaryProcess.Captured()

    /// Starts mosquitto; `extraConfiguration` lines are appended to the configuration file.
    init(extraConfiguration: [String] = ["allow_anonymous true"]) throws {
        guard let executable = Self.executable else { throw CocoaError(.executableNotLoadable) }
        self.port = try Self.freePort()
        self.directory = TributaryProcess.temporaryDirectory()
        let configuration = (["listener \(port) 127.0.0.1", "max_queued_messages 0", "set_tcp_nodelay true"] + extraConfiguration).joined(separator: "\n") + "\n"
        let file = directory + "/mosquitto.conf"
        try configuration.write(toFile: file, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-c", file]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        pipe.fileHandleForReading.readabilityHandler = { [output] handle in
            output.append(handle.availableData)
        }
        try process.run()
    }

    /// What mosquitto logged so far.
    var log: String { output.value }

    /// Waits until the broker accepts TCP connections.
    func waitUntilListening() async -> Bool {
        await eventually(timeout: .seconds(30)) { [port, process] in
            process.isRunning && Self.canConnect(port: port)
        }
    }

    /// Kills the broker (SIGKILL) and waits for it to exit.
    func kill() {
        if process.isRunning {
            #if canImport(Glibc)
            Glibc.kill(process.processIdentifier, SIGKILL)
            #else
            Darwin.kill(process.processIdentifier, SIGKILL)
            #endif
            process.waitUntilExit()
        }
    }

    deinit {
        self.kill()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A port the kernel just handed out for 127.0.0.1 (bound to port 0, then released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, streamSocket, 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(fd) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw POSIXError(.EINVAL) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether a TCP connection to 127.0.0.1:`port` succeeds.
    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, streamSocket, 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
    }

    #if canImport(Glibc)
    private static let streamSocket = Int32(SOCK_STREAM.rawValue)
    #else
    private static let streamSocket = SOCK_STREAM
    #endif

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
