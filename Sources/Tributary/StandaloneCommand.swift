import ArgumentParser
import Foundation
import JournalServer
import Logging
import ServiceLifecycle
import MetaService
import Shared

/// `tributary standalone`: every role in one process, on embedded defaults (the default way to
/// run Tributary). Roles not built yet are not started; the ready line lists what runs.
struct StandaloneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "standalone",
        abstract: "Run all roles in one process (data in ./data by default)."
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "Data directory (node.data-dir).")
    var dataDir: String?

    @Option(name: .long, help: "MQTT port (mqtt.port); 0 picks a free port.")
    var mqttPort: Int?

    @Option(name: .long, help: "Admin HTTP port (admin.port); 0 picks a free port.")
    var adminPort: Int?

    @Option(name: .long, help: "MQTT over WebSocket port (mqtt.ws.port); 0 picks a free port.")
    var wsPort: Int?

    @Option(name: .long, help: "Internal RPC port (rpc.port); 0 picks a free port.")
    var rpcPort: Int?

    func run() async throws {
        let config = try await options.load(overrides: [
            "node.data-dir": dataDir,
            "mqtt.port": mqttPort.map(String.init),
            "mqtt.ws.port": wsPort.map(String.init),
            "admin.port": adminPort.map(String.init),
            "rpc.port": rpcPort.map(String.init),
        ])
        Observability.bootstrap(log: config.log)
        let logger = Logger(label: "tributary.standalone")
        let assembly = try NodeAssembly(config: config, mode: "standalone", logger: logger)
        let mqttTLS = try BrokerWiring.tlsContext(config)
        let mqttAuthentication = try BrokerWiring.authentication(config, standalone: true)
        // The MetaService role: a single-voter Raft group in this process, served on the node's RPC.
        let meta = try MetaNodeWiring.makeNode(
            config: config, assembly: assembly,
            members: [RaftNodeID(config.node.id): config.rpc.listener.description], bootstrap: true,
            tickMs: 100, snapshotInterval: 10_000, logger: Logger(label: "tributary.meta")
        )
        // The journal role: this node's shards, served on the node's RPC (single replica).
        let journal = try await JournalWiring.start(
            config: config, assembly: assembly, localMeta: meta, logger: Logger(label: "tributary.journal"))
        // The MQTT broker role over the in-process journal and meta; shut down first, so that
        // it stores its sessions while meta and the journal still run.
        try await assembly.run(
            roles: ["meta", "journal", "mqtt"],
            register: { router in
                meta.register(into: &router)
                journal.register(into: &router)
            },
            extraListeners: BrokerWiring.listenerNames(config)
        ) { report in
            [
                MetaNodeService(node: meta), journal.lifecycle,
                BrokerWiring.makeService(
                    config: config, assembly: assembly, journal: journal.localClient, tls: mqttTLS, authentication: mqttAuthentication,
                    registerMeta: { meta.register(into: &$0) }, report: report),
            ]
        }
    }
}
