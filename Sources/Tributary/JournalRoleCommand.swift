import ArgumentParser

/// `tributary journal`: a JournalServer node.
struct JournalRoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Run a JournalServer node (segmented, replicated shard logs)."
    )

    @OptionGroup var options: ConfigOptions
    @Option(help: "This node's id.") var id: Int?
    @Option(help: "Data directory.") var dataDir: String?
    @Option(help: "RPC listen address HOST:PORT.") var listen: String?
    @Option(help: "Meta nodes HOST:PORT,…") var meta: String?

    func run() async throws {
        try refuseUnbuiltRole("journal", issue: "JournalServer: segmented, replicated shard logs")
    }
}
