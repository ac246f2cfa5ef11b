import ArgumentParser

/// The `tributary` command: one executable for every role of a Tributary cluster.
@main
struct TributaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tributary",
        abstract: "Tributary: one multi-protocol message queue (MQTT first, then Kafka and AMQP).",
        version: TributaryVersion.current,
        subcommands: [
            StandaloneCommand.self,
            MetaRoleCommand.self,
            JournalRoleCommand.self,
            BrokerRoleCommand.self,
            CtlCommand.self,
            BenchCommand.self,
            ConfigCommand.self,
        ],
        defaultSubcommand: nil
    )
}
