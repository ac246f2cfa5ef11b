import Foundation
import Testing

/// A `tributary standalone` for the authentication tests: its configuration file, ports and a
/// way to run `tributary ctl` and the scripts of tests/paho against it.
struct AuthTestNode {
    let process: TributaryProcess
    let directory: String
    let mqttPort: String
    let rpcAddress: String
    let fields: [String: String]

    /// Starts standalone with `config` (YAML) in a fresh directory.
    static func start(config: String, directory: String = TributaryProcess.temporaryDirectory()) async throws -> AuthTestNode {
        let configFile = directory + "/tributary.yaml"
        try config.write(toFile: configFile, atomically: true, encoding: .utf8)
        let process = try TributaryProcess.standalone(extra: ["--config", configFile])
        let fields = try #require(await process.readyFields(), "stderr: \(process.standardError)")
        let mqtt = try #require(fields["mqtt"], "ready line: \(fields)")
        let rpc = try #require(fields["rpc"], "ready line: \(fields)")
        return AuthTestNode(
            process: process, directory: directory, mqttPort: String(mqtt.split(separator: ":").last ?? ""),
            rpcAddress: rpc.replacingOccurrences(of: "0.0.0.0", with: "127.0.0.1"), fields: fields)
    }

    /// The port of a listener of the ready line.
    func port(_ name: String) throws -> String {
        try #require(fields[name]?.split(separator: ":").last.map(String.init), "no \(name) in \(fields)")
    }

    /// Runs `tributary ctl <arguments> --meta <rpc>` with `input` on stdin.
    func ctl(_ arguments: [String], input: String? = nil) async throws -> (status: Int32, output: String, error: String) {
        let ctl = Process()
        ctl.executableURL = TributaryProcess.executable
        ctl.arguments = ["ctl"] + arguments + ["--meta", rpcAddress]
        let output = Pipe(), error = Pipe(), stdin = Pipe()
        ctl.standardOutput = output
        ctl.standardError = error
        ctl.standardInput = stdin
        try ctl.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let finished = await eventually(timeout: .seconds(60)) { !ctl.isRunning }
        if !finished { ctl.terminate() }
        ctl.waitUntilExit()
        return (ctl.terminationStatus,
                String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    /// Runs tests/paho/auth_cases.py CASE against the node's port (or `port`) and expects it to pass.
    func runCase(_ name: String, port: String? = nil, _ arguments: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let script = PahoConformanceTests.repositoryRoot.appendingPathComponent("tests/paho/auth_cases.py").path
        let (status, output) = try await PahoConformanceTests.python(
            [script, name, "127.0.0.1", port ?? mqttPort] + arguments, timeout: .seconds(300))
        #expect(status == 0 && output.contains("ok \(name)"), "\(name): \(output)\nbroker stderr: \(process.standardError.suffix(3000))",
                sourceLocation: sourceLocation)
    }

    /// Stops the node with SIGTERM and expects a clean exit; removes the directory.
    func stop() async {
        process.signal(SIGTERM)
        #expect(await process.exitStatus() == 0, "stderr: \(process.standardError.suffix(3000))")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Writes the test certificates and JWT keys (tests/paho/auth_certs.py) into `directory`.
    static func makeCertificates(in directory: String) async throws {
        let script = PahoConformanceTests.repositoryRoot.appendingPathComponent("tests/paho/auth_certs.py").path
        let (status, output) = try await PahoConformanceTests.python([script, directory], timeout: .seconds(120))
        try #require(status == 0, "auth_certs.py: \(output)")
    }
}

extension AuthTestNode {
    /// Fails (after trying the install script once) unless python3 can import paho-mqtt 2.x and
    /// cryptography.
    static func requireClients() async throws {
        try PahoConformanceTests.requirePaho()
        let probe = ["-c", "import cryptography"]
        if (try? await PahoConformanceTests.python(probe, timeout: .seconds(60)).0) == 0 { return }
        let install = Process()
        install.executableURL = URL(fileURLWithPath: "/bin/bash")
        install.arguments = [PahoConformanceTests.repositoryRoot.appendingPathComponent("scripts/install-test-deps.sh").path]
        try install.run()
        install.waitUntilExit()
        let (status, output) = try await PahoConformanceTests.python(probe, timeout: .seconds(60))
        try #require(status == 0, "python3-cryptography is unavailable: \(output)")
    }
}
