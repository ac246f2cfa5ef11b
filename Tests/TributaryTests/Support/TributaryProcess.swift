import Foundation
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Waits until `condition` holds or `timeout` passes; polls every 20 ms. Returns whether it held.
func eventually(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// A real `tributary` process started by a test, with its output captured. Killed (SIGKILL) and
/// its temporary data directory removed when the value is released.
final class TributaryProcess: @unchecked Sendable {
    /// The built `tributary` executable, next to the test bundle in the build folder.
    static var executable: URL {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        while url.pathComponents.count > 1 {
            let candidate = url.deletingLastPathComponent().appendingPathComponent("tributary")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            url = url.deletingLastPathComponent()
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/tributary")
    }

    /// A fresh temporary directory.
    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "tributary-test-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Text a pipe has delivered so far.
    final class Captured: Sendable {
        private let text = Mutex("")
        func append(_ data: Data) { text.withLock { $0 += String(decoding: data, as: UTF8.self) } }
        var value: String { text.withLock { $0 } }
    }

    let process = Process()
    private let stdout = Captured()
    private let stderr = Captured()
    let dataDirectory: String?

    /// Starts `tributary <arguments>` with an environment free of `TRIBUTARY_` variables plus `environment`.
    init(_ arguments: [String], environment: [String: String] = [:], dataDirectory: String? = nil) throws {
        self.dataDirectory = dataDirectory
        process.executableURL = Self.executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TRIBUTARY_") }
        env.merge(environment) { _, new in new }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        out.fileHandleForReading.readabilityHandler = { [stdout] handle in
            stdout.append(handle.availableData)
        }
        err.fileHandleForReading.readabilityHandler = { [stderr] handle in
            stderr.append(handle.availableData)
        }
        try process.run()
    }

    /// Starts `tributary standalone` on free ports in a new temporary data directory.
    static func standalone(extra: [String] = [], environment: [String: String] = [:]) throws -> TributaryProcess {
        let data = temporaryDirectory()
        return try TributaryProcess(
            ["standalone", "--data-dir", data, "--admin-port", "0", "--rpc-port", "0", "--mqtt-port", "0", "--ws-port", "0"] + extra,
            environment: environment,
            dataDirectory: data
        )
    }

    var standardOutput: String { stdout.value }
    var standardError: String { stderr.value }

    /// The `key=value` fields of the ready line, once it is printed.
    func readyFields(timeout: Duration = .seconds(60)) async -> [String: String]? {
        var fields: [String: String]?
        _ = await eventually(timeout: timeout) {
            guard let line = standardOutput.split(separator: "\n").first(where: { $0.contains(" ready ") }) else {
                return !process.isRunning
            }
            var parsed: [String: String] = [:]
            for word in line.split(separator: " ") {
                let parts = word.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { parsed[String(parts[0])] = String(parts[1]) }
            }
            fields = parsed
            return true
        }
        return fields
    }

    /// Waits for the process to exit and returns its status, or nil on timeout.
    func exitStatus(timeout: Duration = .seconds(30)) async -> Int32? {
        let exited = await eventually(timeout: timeout) { !process.isRunning }
        return exited ? process.terminationStatus : nil
    }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        if let dataDirectory {
            try? FileManager.default.removeItem(atPath: dataDirectory)
        }
    }
}

/// A plain HTTP GET against a local admin endpoint.
func httpGet(_ url: String) async throws -> (status: Int, body: String, contentType: String?) {
    let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
    let http = response as! HTTPURLResponse
    return (http.statusCode, String(decoding: data, as: UTF8.self), http.value(forHTTPHeaderField: "Content-Type"))
}
