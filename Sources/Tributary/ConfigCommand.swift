import ArgumentParser
import Shared

/// `tributary config`: inspect configuration without starting anything.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check a configuration or list every configuration key.",
        subcommands: [Check.self, Keys.self]
    )

    /// `tributary config check`: validate and print the effective configuration.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate the configuration (file, TRIBUTARY_ variables) and print the effective values."
        )

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let config = try await options.load(overrides: [:])
            print("node.id = \(config.node.id)")
            print("node.data-dir = \(config.node.dataDir)")
            print("rpc = \(config.rpc.listener) (max frame \(config.rpc.maxFrameBytes) bytes, tls \(config.rpc.tls.isEnabled ? "on" : "off"))")
            print("admin = \(config.admin)")
            print("mqtt = \(config.mqtt)")
            print("log = \(config.log.level) \(config.log.format.rawValue)")
        }
    }

    /// `tributary config keys`: the catalog as a Markdown table.
    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every configuration key with its environment variable and default (Markdown)."
        )

        func run() {
            print(ConfigDocumentation.markdownTable())
        }
    }
}
