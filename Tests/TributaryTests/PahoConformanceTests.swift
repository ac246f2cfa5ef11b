import Foundation
import Testing

/// Runs the paho-mqtt conformance cases (tests/paho/run.py) against the broker that
/// ``PahoConformanceBroker/start()`` returns, once per protocol version. A missing python3 or
/// paho-mqtt is a failure, not a skip: scripts/install-test-deps.sh guarantees both.
@Suite("paho-mqtt conformance", .serialized)
struct PahoConformanceTests {
    enum Version: String, CaseIterable, CustomTestStringConvertible {
        case v311 = "311"
        case v5 = "5"

        var testDescription: String { self == .v311 ? "MQTT 3.1.1" : "MQTT 5.0" }
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test("every conformance case passes", .serialized, arguments: Version.allCases)
    func conformance(_ version: Version) async throws {
        try Self.requirePaho()
        let broker = try await PahoConformanceBroker.start()
        defer { broker.stop() }
        var arguments = [
            Self.repositoryRoot.appendingPathComponent("tests/paho/run.py").path,
            "--host", broker.host, "--port", "\(broker.port)", "--protocol", version.rawValue,
        ]
        if let webSocketPort = broker.webSocketPort { arguments += ["--ws-port", "\(webSocketPort)"] }
        arguments += broker.runnerArguments
        let (status, output) = try await Self.python(arguments, timeout: .seconds(600))
        let lines = output.split(separator: "\n").map(String.init)
        for failure in lines where failure.hasPrefix("FAIL ") {
            Issue.record("\(failure)")
        }
        let passed = lines.filter { $0.hasPrefix("PASS ") }.count
        // 15 cases exist for 3.1.1 and 25 for 5.0 (WebSocket included, Tributary-only ones not);
        // a broken runner passes none.
        #expect(passed >= (version == .v5 ? 20 : 12), "only \(passed) cases passed:\n\(output)")
        #expect(status == 0, "run.py exited with \(status):\n\(output)\nbroker log:\n\(broker.log())")
    }

    /// Fails (after trying the install script once) unless python3 can import paho-mqtt 2.x.
    static func requirePaho() throws {
        let probe = ["-c", "import paho.mqtt, sys; sys.exit(0 if paho.mqtt.__version__.startswith('2.') else 1)"]
        if (try? runSync(python: probe)) == 0 { return }
        let install = Process()
        install.executableURL = URL(fileURLWithPath: "/bin/bash")
        install.arguments = [repositoryRoot.appendingPathComponent("scripts/install-test-deps.sh").path]
        try install.run()
        install.waitUntilExit()
        let status = try runSync(python: probe)
        guard status == 0 else { throw PahoConformanceError.pahoUnavailable("import paho.mqtt exited with \(status)") }
    }

    private static func runSync(python arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Runs python3 with `arguments`; returns its exit status and combined output. Killed and
    /// reported as a failure after `timeout`.
    static func python(_ arguments: [String], timeout: Duration) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u"] + arguments
        let output = TributaryProcess.Captured()
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        pipe.fileHandleForReading.readabilityHandler = { handle in
            output.append(handle.availableData)
        }
        try process.run()
        let finished = await eventually(timeout: timeout) { !process.isRunning }
        if !finished {
            process.terminate()
            process.waitUntilExit()
            throw PahoConformanceError.runnerTimedOut(output: output.value)
        }
        process.waitUntilExit()
        // Let the pipe deliver what is left after exit.
        pipe.fileHandleForReading.readabilityHandler = nil
        output.append(pipe.fileHandleForReading.readDataToEndOfFile())
        return (process.terminationStatus, output.value)
    }
}
