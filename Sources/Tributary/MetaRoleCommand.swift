import ArgumentParser
import BrokerServer
import Foundation
import Logging
import MetaService
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Shared

/// `tributary meta`: a MetaService (Raft) node of a cluster.
struct MetaRoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meta",
        abstract: "Run a MetaService node (Raft-replicated metadata and controller).",
        discussion: """
        Founders start with the same --peers list and a brand-new data directory: together they \
        bootstrap that voter set. A node started with --join bootstraps nothing and waits to be \
        added with `tributary ctl meta add-member ID HOST:PORT`.
        """
    )

    @OptionGroup var options: ConfigOptions
    @Option(help: "This node's id (node.id).") var id: Int?
    @Option(help: "Data directory (node.data-dir).") var dataDir: String?
    @Option(help: "RPC listen address HOST:PORT (rpc.host, rpc.port).") var listen: String?
    @Option(help: "Members as ID=HOST:PORT,… (the founders, or the cluster a joining node talks to).") var peers: String?
    @Flag(help: "Join an existing cluster instead of bootstrapping one.") var join = false
    @Option(help: "Admin HTTP port (admin.port); 0 picks a free port.") var adminPort: Int?
    @Option(help: "Raft tick length in milliseconds (election after 10 ticks, heartbeat every tick).") var tickMs: Int = 100
    @Option(help: "Snapshot and compact the Raft log every N applied entries.") var snapshotInterval: Int = 10_000

    /// Parses `ID=HOST:PORT,…`.
    static func parsePeers(_ text: String) throws -> [RaftNodeID: String] {
        var peers: [RaftNodeID: String] = [:]
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: "=", maxSplits: 1)
            guard pieces.count == 2, let id = RaftNodeID(pieces[0]), id != 0, RPCEndpoint(String(pieces[1])) != nil else {
                throw ValidationError("--peers must be ID=HOST:PORT[,ID=HOST:PORT…]; '\(part)' is not")
            }
            peers[id] = String(pieces[1])
        }
        return peers
    }

    func validate() throws {
        if let listen, RPCEndpoint(listen) == nil { throw ValidationError("--listen must be HOST:PORT") }
        if let peers { _ = try Self.parsePeers(peers) }
        guard tickMs > 0, snapshotInterval > 0 else { throw ValidationError("--tick-ms and --snapshot-interval must be positive") }
    }

    func run() async throws {
        let endpoint = listen.flatMap { RPCEndpoint($0) }
        let config = try await options.load(overrides: [
            "node.id": id.map(String.init),
            "node.data-dir": dataDir,
            "rpc.host": endpoint?.host,
            "rpc.port": endpoint.map { String($0.port) },
            "admin.port": adminPort.map(String.init),
        ])
        Observability.bootstrap(log: config.log)
        let logger = Logger(label: "tributary.meta")
        let nodeID = RaftNodeID(config.node.id)
        var members = try peers.map(Self.parsePeers) ?? [:]
        let ownAddress = members[nodeID] ?? config.rpc.listener.description
        members[nodeID] = ownAddress
        if !join && peers == nil {
            logger.notice("no --peers: bootstrapping a single-voter cluster")
        }
        let assembly = try NodeAssembly(config: config, mode: "meta", logger: logger)
        let node = try MetaNodeWiring.makeNode(
            config: config, assembly: assembly, members: members, bootstrap: !join,
            tickMs: tickMs, snapshotInterval: snapshotInterval, logger: logger
        )
        let clientTLS: NIOSSLContext?
        do {
            clientTLS = try config.rpc.tls.makeClientContext()
        } catch {
            FileHandle.standardError.write(Data("tributary: configuration refused: \(error)\n".utf8))
            throw ExitCode(78)
        }
        // While this node leads: wills and expiry of the sessions of dead MQTT brokers.
        let reaper = MQTTSessionReaperTask(shardCount: config.mqttBroker.shards) { meta in
            ClusterBrokerWiring.journalClient(meta: meta, tls: clientTLS)
        }
        try await assembly.run(
            roles: ["meta"], register: { node.register(into: &$0) },
            services: [MetaNodeService(node: node, tasks: MetaNodeWiring.controllerTasks(config: config) + [reaper])])
    }
}

/// Runs a ``MetaNode`` inside the node's `ServiceGroup`: ticks until graceful shutdown.
