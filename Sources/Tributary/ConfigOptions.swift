import ArgumentParser
import Foundation
import Shared

/// Options every server role shares: the config file and the log settings.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "YAML configuration file (see docs/configuration.md).")
    var config: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    @Option(name: .long, help: "Log format: text or json.")
    var logFormat: String?

    /// Loads the configuration, with `overrides` (dotted key → value) from role-specific flags.
    /// A bad configuration ends the process with exit code 78 (EX_CONFIG) and names the problem.
    func load(overrides: [String: String?]) async throws -> TributaryConfig {
        var flags: [String: String] = [:]
        for (key, value) in overrides {
            if let value { flags[key] = value }
        }
        if let logLevel { flags["log.level"] = logLevel }
        if let logFormat { flags["log.format"] = logFormat }
        let loader = ConfigLoader(filePath: config, environment: ProcessInfo.processInfo.environment, flags: flags)
        do {
            return try await loader.load()
        } catch {
            FileHandle.standardError.write(Data("tributary: configuration refused: \(error)\n".utf8))
            throw ExitCode(78)
        }
    }
}
