import ArgumentParser
import Foundation

/// Ends a role command whose service is not part of this build with a clear message.
func refuseUnbuiltRole(_ role: String, issue: String) throws -> Never {
    FileHandle.standardError.write(Data(
        "tributary \(role): the \(role) role is not available in this build yet (\(issue)); run `tributary standalone`\n".utf8
    ))
    throw ExitCode(2)
}

/// `tributary meta`: a MetaService (Raft) node of a cluster.
struct MetaCommand: AsyncParsableCommand {
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

/// `tributary journal`: a JournalServer node.
struct JournalCommand: AsyncParsableCommand {
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

/// `tributary broker`: a stateless protocol front end.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run a BrokerServer (stateless MQTT front end) of a cluster."
    )

    @OptionGroup var options: ConfigOptions
    @Option(help: "This node's id.") var id: Int?
    @Option(help: "Meta nodes HOST:PORT,…") var meta: String?

    func run() async throws {
        try refuseUnbuiltRole("broker", issue: "cluster mode")
    }
}
