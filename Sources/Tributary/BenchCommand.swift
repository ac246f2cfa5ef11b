import ArgumentParser

/// `tributary bench`: load generators whose results go into BENCHMARKS.md.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load generators (results are recorded in BENCHMARKS.md).",
        subcommands: [BenchRPCCommand.self, BenchMQTTCommand.self, BenchMetaCommand.self, BenchJournalCommand.self]
    )
}
