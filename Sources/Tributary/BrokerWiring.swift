import BrokerServer
import JournalServer
import Logging
import MetaService
import NIOCore
import ServiceLifecycle
import Shared

/// Starts the MQTT broker role in a node process: an ``MQTTBroker`` over the node's journal and
/// meta (in standalone both in-process, through ``InProcessTransport``s) and its TCP listener.
enum BrokerWiring {
    /// The broker's settings from the node's configuration.
    static func brokerConfiguration(_ config: TributaryConfig) -> MQTTBrokerConfiguration {
        let settings = config.mqttBroker
        return MQTTBrokerConfiguration(
            session: MQTTSessionConfiguration(
                receiveMaximum: UInt16.max,
                maximumPacketSize: UInt32(clamping: settings.maxPacketSize),
                maximumSessionExpiryInterval: settings.maxSessionExpiry,
                maximumQueuedMessages: settings.maxQueuedMessages),
            maximumPacketSize: settings.maxPacketSize,
            maximumConnections: settings.maxConnections,
            shardCount: settings.shards,
            sysInterval: settings.sysInterval,
            allowAnonymous: settings.allowAnonymous,
            version: "tributary \(TributaryVersion.current)")
    }

    /// The broker role over `journal` and the meta service registered by `registerMeta`.
    static func makeService(
        config: TributaryConfig, assembly: NodeAssembly, journal: JournalClient,
        registerMeta: (inout RPCRouter) -> Void, report: StartupReport
    ) -> MQTTBrokerService {
        var metaRouter = RPCRouter()
        registerMeta(&metaRouter)
        let router = metaRouter
        let metaTransport = InProcessTransport(router: router, logger: Logger(label: "tributary.mqtt.meta"))
        let meta = MetaClient(addresses: ["local"], options: MetaClient.Options(timeout: .seconds(60))) { _ in metaTransport }
        let logger = Logger(label: "tributary.mqtt")
        let broker = MQTTBroker(configuration: brokerConfiguration(config), journal: journal, meta: meta, logger: logger)
        let listener = MQTTListener(
            configuration: .init(host: config.mqtt.host, port: config.mqtt.port), broker: broker, logger: logger)
        assembly.readiness.register("mqtt")
        return MQTTBrokerService(broker: broker, listener: listener, readiness: assembly.readiness, report: report)
    }
}

/// Runs the broker until graceful shutdown: starts it (shards, retained index, stored sessions),
/// binds the listener and reports its port; on shutdown stops accepting, disconnects every
/// client (5.0: 0x8B) and persists their sessions.
struct MQTTBrokerService: Service {
    let broker: MQTTBroker
    let listener: MQTTListener
    let readiness: NodeReadiness
    let report: StartupReport

    func run() async throws {
        try await broker.start()
        let address = try await listener.start()
        report.bound("mqtt", port: address.port ?? listener.configuration.port)
        readiness.set("mqtt", ready: true)
        try? await gracefulShutdown()
        readiness.set("mqtt", ready: false)
        await listener.stop()
        await broker.shutdown()
    }
}
