import ArgumentParser

/// `tributary meta`: a MetaService (Raft) node of a cluster.
struct MetaRoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meta",
        abstract: "Run a MetaService node (Raft-replicated metadata and controller)."
    )

    @OptionGroup var options: ConfigOptions
    @Option(help: "This node's id.") var id: Int?
    @Option(help: "Data directory.") var dataDir: String?
    @Option(help: "RPC listen address HOST:PORT.") var listen: String?
    @Option(help: "Voters as ID=HOST:PORT,…") var peers: String?

    func run() async throws {
        try refuseUnbuiltRole("meta", issue: "MetaService: Raft consensus")
    }
}
