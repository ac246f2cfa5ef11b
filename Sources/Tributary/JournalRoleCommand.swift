import ArgumentParser
import Foundation
import JournalServer
import Logging
import MetaService
import NIOCore
import NIOSSL
import ServiceLifecycle
import Shared

/// `tributary journal`: a JournalServer node serving ``JournalAPI`` (one replica per shard for
/// now), registered in meta under `/nodes/journal/<id>` with a lease it keeps alive.
struct JournalRoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Run a JournalServer node (segmented shard logs; single replica per shard for now)."
    )

    @OptionGroup var options: ConfigOptions
    @Option(help: "This node's id (node.id).") var id: Int?
    @Option(help: "Data directory (node.data-dir).") var dataDir: String?
    @Option(help: "RPC listen address HOST:PORT (rpc.host, rpc.port).") var listen: String?
    @Option(help: "Meta nodes HOST:PORT,… to register with and record shards in.") var meta: String?
    @Option(help: "Admin HTTP port (admin.port); 0 picks a free port.") var adminPort: Int?
    @Option(help: "Time to live of the node's registration lease, in milliseconds.") var leaseTtlMs: Int = 10_000

    func validate() throws {
        if let listen, RPCEndpoint(listen) == nil { throw ValidationError("--listen must be HOST:PORT") }
        guard let meta, !meta.isEmpty else { throw ValidationError("--meta HOST:PORT[,HOST:PORT…] is required") }
        for part in meta.split(separator: ",") where RPCEndpoint(String(part)) == nil {
            throw ValidationError("--meta must be HOST:PORT[,HOST:PORT…]; '\(part)' is not")
        }
        guard leaseTtlMs >= 300 else { throw ValidationError("--lease-ttl-ms must be at least 300") }
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
        let logger = Logger(label: "tributary.journal")
        let clientTLS: NIOSSLContext?
        do {
            clientTLS = try config.rpc.tls.makeClientContext()
        } catch {
            FileHandle.standardError.write(Data("tributary: configuration refused: \(error)\n".utf8))
            throw ExitCode(78)
        }
        let addresses = (meta ?? "").split(separator: ",").map(String.init)
        let metaClient = MetaClient(addresses: addresses) { address in
            var configuration = RPCClientConfiguration(endpoints: RPCEndpoint(address).map { [$0] } ?? [])
            configuration.tls = clientTLS
            return RPCClient(configuration: configuration, logger: Logger(label: "tributary.journal.meta"))
        }
        let assembly = try NodeAssembly(config: config, mode: "journal", logger: logger)
        let journal = try await JournalWiring.start(
            config: config, assembly: assembly, localMeta: nil, remoteMeta: metaClient, logger: logger)
        assembly.readiness.register("journal-registration")
        let registration = JournalRegistrationService(
            client: metaClient, nodeID: config.node.id, address: config.rpc.listener.description,
            ttlMillis: UInt64(leaseTtlMs), readiness: assembly.readiness, logger: logger)
        var services: [any Service] = [journal.lifecycle, registration]
        if let replicas = journal.replicas, let cluster = journal.cluster {
            services.append(JournalWiring.ReplicationService(nodeID: UInt64(max(config.node.id, 0)), replicas: replicas, cluster: cluster, logger: logger))
        }
        try await assembly.run(roles: ["journal"], register: { journal.register(into: &$0) }, services: services)
    }
}
