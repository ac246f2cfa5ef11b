import ArgumentParser
import MetaService
import Shared

/// `tributary ctl cluster …`: the whole cluster as meta sees it.
struct CtlClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Inspect the cluster's nodes.",
        subcommands: [Status.self]
    )

    /// `ctl cluster status [--json]`: every meta member and every registered (or dead) node.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every node: role, id, address, state, lease and its remaining TTL, start and last change time.")
        @OptionGroup var connection: CtlConnectionOptions
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() async throws {
            try await connection.withMetaClient { client in
                let rows = try await CtlClusterStatus.gather(client, contacted: connection.meta.split(separator: ",").map(String.init))
                print(json ? try CtlClusterStatus.json(rows) : CtlClusterStatus.table(rows))
            }
        }
    }
}
