import Foundation
import Synchronization
import Testing

/// A standalone node for the authorization process tests, `tributary ctl` against it, and the
/// paho script `tests/paho/authz.py` driven phase by phase over its stdin.
struct ACLTestNode {
    let node: TributaryProcess
    let mqttPort: String
    let rpc: String

    /// Starts `tributary standalone` with `environment` (config keys) on free ports.
    static func start(environment: [String: String] = [:]) async throws -> ACLTestNode {
        try PahoConformanceTests.requirePaho()
        let node = try TributaryProcess.standalone(environment: environment)
        let fields = try #require(await node.readyFields(), "stderr: \(node.standardError)")
        let mqtt = try #require(fields["mqtt"]?.split(separator: ":").last.map(String.init))
        let rpc = try #require(fields["rpc"]?.split(separator: ":").last.map(String.init))
        return ACLTestNode(node: node, mqttPort: mqtt, rpc: "127.0.0.1:\(rpc)")
    }

    /// Runs `tributary ctl <arguments> --meta <node>`; returns its exit status and output.
    @discardableResult
    func ctl(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = try TributaryProcess(["ctl"] + arguments + ["--meta", rpc])
        let status = await process.exitStatus(timeout: .seconds(60))
        return (status ?? -1, process.standardOutput + process.standardError)
    }

    /// Like ``ctl(_:)`` but the command must succeed.
    func ctlOK(_ arguments: [String]) async throws {
        let (status, output) = try await ctl(arguments)
        #expect(status == 0, "ctl \(arguments.joined(separator: " ")) failed: \(output)")
        try #require(status == 0)
    }

    /// Adds users with the password the paho script uses (`secret`); `superusers` bypass ACLs.
    func addUsers(_ names: [String], superusers: [String] = []) async throws {
        let directory = TributaryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/password"
        try "secret\n".write(toFile: file, atomically: true, encoding: .utf8)
        for name in names + superusers {
            let flags = superusers.contains(name) ? ["--super"] : []
            try await ctlOK(["user", "add", name, "--password-file", file, "--iterations", "1000"] + flags)
        }
    }

    /// Stops the node (SIGTERM) and checks it exits cleanly.
    func stop() async {
        node.signal(SIGTERM)
        #expect(await node.exitStatus() == 0, "stderr: \(node.standardError)")
    }
}

/// `python3 tests/paho/authz.py --port P PHASE`: its output, and a way to answer its
/// `WAITING <step>` lines.
final class AuthzScript: @unchecked Sendable {
    let process = Process()
    private let input = Pipe()
    private let output = TributaryProcess.Captured()

    init(port: String, phase: String) throws {
        // Answering a script that already ended must not kill the test process.
        signal(SIGPIPE, SIG_IGN)
        let script = PahoConformanceTests.repositoryRoot.appendingPathComponent("tests/paho/authz.py").path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", script, "--port", port, phase]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = input
        pipe.fileHandleForReading.readabilityHandler = { [output] handle in output.append(handle.availableData) }
        try process.run()
    }

    var text: String { output.value }

    /// Waits until the script asks for `step`; false if it ended or timed out first.
    func waitFor(_ step: String) async -> Bool {
        await eventually(timeout: .seconds(60)) { text.contains("WAITING \(step)") || !process.isRunning }
            && text.contains("WAITING \(step)")
    }

    /// Lets the script go on.
    func proceed() {
        guard process.isRunning else { return }
        try? input.fileHandleForWriting.write(contentsOf: Data("go\n".utf8))
    }

    /// Waits for the script to end; true when it exited 0 and printed `all ok`.
    func succeeded() async -> Bool {
        let ended = await eventually(timeout: .seconds(180)) { !process.isRunning }
        if !ended { process.terminate() }
        return ended && process.terminationStatus == 0 && text.contains("all ok")
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}
