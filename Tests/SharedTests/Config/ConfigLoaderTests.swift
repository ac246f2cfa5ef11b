import Foundation
import Testing

@testable import Shared

@Suite("Configuration loading")
struct ConfigLoaderTests {
    /// A temporary YAML file removed when the test ends.
    final class TempFile {
        let path: String
        init(_ contents: String) throws {
            path = NSTemporaryDirectory() + "tributary-config-\(UUID().uuidString).yaml"
            try contents.write(toFile: path, atomically: true, encoding: .utf8)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    func load(file: String? = nil, env: [String: String] = [:], flags: [String: String] = [:]) async throws(ConfigurationError) -> TributaryConfig {
        try await ConfigLoader(filePath: file, environment: env, flags: flags).load()
    }

    @Test func defaultsApplyWithNoSources() async throws {
        let config = try await load()
        #expect(config == TributaryConfig.defaults)
        #expect(config.node.dataDir == "./data")
        #expect(config.mqtt.port == 1883)
        #expect(config.admin.port == 9880)
        #expect(config.log.format == .text)
        #expect(config.rpc.tls.isEnabled == false)
    }

    @Test func everyCatalogDefaultIsValid() {
        for key in ConfigCatalog.keys {
            #expect(key.problem(with: key.defaultValue) == nil, "default of \(key.name)")
        }
    }

    @Test func fileThenEnvironmentThenFlagsTakePrecedence() async throws {
        let file = try TempFile("""
            admin:
              port: 7001
            mqtt:
              port: 7002
              host: 127.0.0.1
            log:
              format: json
            """)
        let fromFile = try await load(file: file.path)
        #expect(fromFile.admin.port == 7001)
        #expect(fromFile.mqtt.port == 7002)
        #expect(fromFile.mqtt.host == "127.0.0.1")
        #expect(fromFile.log.format == .json)

        let fromEnv = try await load(file: file.path, env: ["TRIBUTARY_ADMIN_PORT": "7101", "PATH": "/bin"])
        #expect(fromEnv.admin.port == 7101)
        #expect(fromEnv.mqtt.port == 7002)

        let fromFlags = try await load(file: file.path, env: ["TRIBUTARY_ADMIN_PORT": "7101"], flags: ["admin.port": "0"])
        #expect(fromFlags.admin.port == 0)
    }

    @Test func dashedKeysMapToUnderscoredVariables() async throws {
        let config = try await load(env: ["TRIBUTARY_NODE_DATA_DIR": "/var/lib/tributary", "TRIBUTARY_RPC_MAX_FRAME_BYTES": "4096"])
        #expect(config.node.dataDir == "/var/lib/tributary")
        #expect(config.rpc.maxFrameBytes == 4096)
    }

    @Test func missingFileIsRefused() async {
        await #expect(throws: ConfigurationError.fileNotReadable(path: "/nonexistent/tributary.yaml", reason: "no such file")) {
            _ = try await load(file: "/nonexistent/tributary.yaml")
        }
    }

    @Test func unknownKeyIsNamedWithASuggestion() async throws {
        let file = try TempFile("admin:\n  prot: 1\n")
        await #expect(throws: ConfigurationError.unknownKey(path: file.path, key: "admin.prot", suggestion: "admin.port")) {
            _ = try await load(file: file.path)
        }
        let unknownSection = try TempFile("kafka:\n  port: 9092\n")
        do {
            _ = try await load(file: unknownSection.path)
            Issue.record("an unknown section was accepted")
        } catch {
            #expect(error.description.contains("unknown key 'kafka'"))
        }
    }

    @Test func badValuesNameKeyAndSource() async throws {
        let file = try TempFile("mqtt:\n  port: seventy\n")
        do {
            _ = try await load(file: file.path)
            Issue.record("a non-numeric port was accepted")
        } catch {
            #expect(error == .badValue(key: "mqtt.port", source: "config file '\(file.path)'",
                                       problem: "expected a TCP port from 0 to 65535, got 'seventy'"))
        }
        await #expect(throws: ConfigurationError.badValue(key: "admin.port", source: "environment variable TRIBUTARY_ADMIN_PORT",
                                                         problem: "expected a TCP port from 0 to 65535, got '70000'")) {
            _ = try await load(env: ["TRIBUTARY_ADMIN_PORT": "70000"])
        }
        await #expect(throws: ConfigurationError.badValue(key: "log.level", source: "command line",
                                                         problem: "expected one of trace, debug, info, notice, warning, error, critical, got 'loud'")) {
            _ = try await load(flags: ["log.level": "loud"])
        }
    }

    @Test func unknownEnvironmentVariableIsRefused() async {
        await #expect(throws: ConfigurationError.unknownEnvironmentVariable(name: "TRIBUTARY_ADMIN_PROT", suggestion: "TRIBUTARY_ADMIN_PORT")) {
            _ = try await load(env: ["TRIBUTARY_ADMIN_PROT": "1"])
        }
    }

    @Test func structuralMistakesAreRefused() async throws {
        let scalarForSection = try TempFile("admin: 9000\n")
        await #expect(throws: ConfigurationError.wrongShape(path: scalarForSection.path, key: "admin", expected: "a section (a mapping of keys)")) {
            _ = try await load(file: scalarForSection.path)
        }
        let listForKey = try TempFile("admin:\n  port: [1, 2]\n")
        await #expect(throws: ConfigurationError.wrongShape(path: listForKey.path, key: "admin.port", expected: "a single value, not a list")) {
            _ = try await load(file: listForKey.path)
        }
        let emptyValue = try TempFile("admin:\n  port:\n")
        await #expect(throws: ConfigurationError.wrongShape(path: emptyValue.path, key: "admin.port", expected: "given a value (it is empty)")) {
            _ = try await load(file: emptyValue.path)
        }
        let notYAML = try TempFile("admin: [unclosed\n")
        do {
            _ = try await load(file: notYAML.path)
            Issue.record("invalid YAML was accepted")
        } catch {
            guard case .fileNotParsable = error else {
                Issue.record("expected fileNotParsable, got \(error)")
                return
            }
        }
    }

    @Test func tlsFilesMustComeTogether() async {
        await #expect(throws: ConfigurationError.inconsistent(key: "rpc.tls.key-file", problem: "rpc.tls.cert-file and rpc.tls.key-file must be set together")) {
            _ = try await load(flags: ["rpc.tls.cert-file": "/etc/tributary/node.pem"])
        }
    }

    @Test func emptyFileMeansDefaults() async throws {
        let file = try TempFile("# nothing set\n")
        #expect(try await load(file: file.path) == TributaryConfig.defaults)
    }

    /// docs/configuration.md must document every key with its default.
    @Test func documentationListsEveryKey() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let docs = try String(contentsOf: root.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        #expect(docs.contains(ConfigDocumentation.markdownTable()), "regenerate the table with `tributary config keys`")
    }
}
