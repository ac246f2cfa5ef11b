import ArgumentParser
import BrokerServer
import Foundation
import JournalServer
import Logging
import MetaService
import NIOSSL
import Shared

/// `tributary broker`: a stateless MQTT front end of a cluster. Sessions, wills, shared-group
/// membership and its own registration live in meta; messages in the journal cluster it finds
/// through meta. Any number of brokers serve the same clients.
struct BrokerRoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run a BrokerServer (stateless MQTT front end) of a cluster.",
        discussion: """
        The broker keeps no state of record: it registers under /nodes/broker/<id> in meta, reaches \
        the journal cluster through the shard and node records in meta, and keeps sessions in meta, so a client may connect \
        to any broker. Its data directory (default <node.data-dir>/broker-<id>) only holds the \
        process lock. See docs/cluster.md.
        """
    )

    @OptionGroup var options: ConfigOptions
    @Option(help: "This broker's node id (node.id), unique among the brokers.") var id: Int?
    @Option(help: "Meta nodes HOST:PORT,…") var meta: String?
    @Option(help: "MQTT port (mqtt.port); 0 picks a free port.") var mqttPort: Int?
    @Option(help: "MQTT over WebSocket port (mqtt.ws.port); 0 picks a free port.") var wsPort: Int?
    @Option(help: "Admin HTTP port (admin.port); 0 picks a free port.") var adminPort: Int?
    @Option(help: "Node RPC port (rpc.port); a broker serves only node information on it. Default: a free port.")
    var rpcPort: Int?
    @Option(help: "Directory for the process lock (node.data-dir). Default: <node.data-dir>/broker-<id>.") var dataDir: String?
    @Option(help: "Time to live of the broker's registration lease, in milliseconds.") var leaseTtlMs: Int = 10_000
    @Option(help: "How long to wait at start for a journal node to register in meta, in seconds.") var journalWait: Int = 60

    func validate() throws {
        guard let id, id > 0 else { throw ValidationError("--id N (a positive broker node id) is required") }
        guard let meta, !meta.isEmpty else { throw ValidationError("--meta HOST:PORT[,HOST:PORT…] is required") }
        for part in meta.split(separator: ",") where RPCEndpoint(String(part)) == nil {
            throw ValidationError("--meta must be HOST:PORT[,HOST:PORT…]; '\(part)' is not")
        }
        guard leaseTtlMs >= 300 else { throw ValidationError("--lease-ttl-ms must be at least 300") }
        guard journalWait > 0 else { throw ValidationError("--journal-wait must be positive") }
    }

    func run() async throws {
        func load(dataDirectory: String?) async throws -> TributaryConfig {
            try await options.load(overrides: [
                "node.id": id.map(String.init),
                "node.data-dir": dataDirectory,
                "mqtt.port": mqttPort.map(String.init),
                "mqtt.ws.port": wsPort.map(String.init),
                "admin.port": adminPort.map(String.init),
                "rpc.port": String(rpcPort ?? 0),
            ])
        }
        var config = try await load(dataDirectory: dataDir)
        if dataDir == nil {
            config = try await load(dataDirectory: URL(fileURLWithPath: config.node.dataDir).appendingPathComponent("broker-\(config.node.id)").path)
        }
        Observability.bootstrap(log: config.log)
        let logger = Logger(label: "tributary.broker")
        let clientTLS: NIOSSLContext?
        do {
            clientTLS = try config.rpc.tls.makeClientContext()
        } catch {
            FileHandle.standardError.write(Data("tributary: configuration refused: \(error)\n".utf8))
            throw ExitCode(78)
        }
        let mqttTLS = try BrokerWiring.tlsContext(config)
        let authentication = try BrokerWiring.authentication(config, standalone: false)
        let addresses = (meta ?? "").split(separator: ",").map(String.init)
        let metaClient = ClusterBrokerWiring.metaClient(addresses: addresses, tls: clientTLS, label: "tributary.broker.meta")
        let assembly = try NodeAssembly(config: config, mode: "broker", logger: logger)
        do {
            try await ClusterBrokerWiring.awaitJournalNodes(meta: metaClient, timeout: .seconds(journalWait), logger: logger)
        } catch {
            FileHandle.standardError.write(Data("tributary broker: \(error)\n".utf8))
            throw ExitCode(69)
        }
        let journal = ClusterBrokerWiring.journalClient(meta: metaClient, tls: clientTLS)
        var brokerConfiguration = BrokerWiring.brokerConfiguration(config)
        brokerConfiguration.brokerID = config.node.id
        brokerConfiguration.shardReplicationFactor = config.mqttBroker.shardReplicas
        brokerConfiguration.allowAnonymous = authentication.allowAnonymous
        let access = MQTTAccessControl(
            configuration: BrokerWiring.accessConfiguration(config, clusterMode: true), audit: assembly.audit,
            logger: Logger(label: "tributary.mqtt"))
        let broker = MQTTBroker(
            configuration: brokerConfiguration, journal: journal, meta: metaClient, authenticator: authentication.chain,
            authorizer: access, logger: Logger(label: "tributary.mqtt"))
        assembly.readiness.register("broker-registration")
        let registration = ClusterBrokerRegistration(
            client: metaClient, broker: broker, nodeID: config.node.id, address: "\(config.mqtt.host):\(config.mqtt.port)",
            ttlMillis: UInt64(leaseTtlMs), readiness: assembly.readiness, logger: logger)
        // Shut down in reverse order: the broker stores its sessions, then the registration ends.
        try await assembly.run(
            roles: ["broker"], register: { _ in }, extraListeners: BrokerWiring.listenerNames(config)
        ) { report in
            [registration, BrokerWiring.makeService(
                config: config, assembly: assembly, broker: broker, users: authentication.users, access: access, meta: metaClient, tls: mqttTLS,
                report: report)]
        }
        await journal.close()
        await metaClient.close()
    }
}
