import ArgumentParser
import Foundation
import Logging
import Metrics
import NIOSSL
import ServiceLifecycle
import UnixSignals
import Shared

/// Wires one node process: the data directory lock, the services of its roles, the admin API,
/// readiness, the ready line, and graceful shutdown on SIGTERM/SIGINT in one `ServiceGroup`.
struct NodeAssembly {
    let config: TributaryConfig
    let mode: String
    let logger: Logger
    let dataDirectory: DataDirectory
    /// What `/health/ready` reports; roles register their own components before ``run``.
    let readiness = NodeReadiness()
    /// The listeners' bound ports, once all are bound (for addresses advertised in meta).
    let listenerPorts = ListenerPorts()
    /// The RPC TLS contexts (`rpc.tls.*`), reloaded on SIGHUP; nil when the RPC is plain TCP.
    /// Inter-node clients take ``RPCTLSReloader/client``.
    let rpcTLS: RPCTLSReloader?
    /// The security audit log (`<data-dir>/audit.log`), unless `audit.enabled` is false.
    let audit: AuditLog?
    /// The admin API's bearer tokens (`admin.auth.tokens-file`), if configured.
    let adminTokens: AdminTokens?

    init(config: TributaryConfig, mode: String, logger: Logger) throws {
        self.config = config
        self.mode = mode
        self.logger = logger
        do {
            self.rpcTLS = try RPCTLSReloader(files: config.rpc.tls)
        } catch {
            FileHandle.standardError.write(Data("tributary: configuration refused: \(error)\n".utf8))
            throw ExitCode(78)
        }
        do {
            self.dataDirectory = try DataDirectory(path: config.node.dataDir)
        } catch {
            FileHandle.standardError.write(Data("tributary: \(error)\n".utf8))
            throw ExitCode(73)
        }
        (audit, adminTokens) = try Self.securitySetup(config: config, dataPath: dataDirectory.path, logger: logger)
    }

    /// Runs the node until SIGTERM/SIGINT: the admin API, the RPC server (node service plus
    /// whatever `register` adds) and `services` (shut down first, in reverse order).
    func run(
        roles: [String] = [],
        register: (inout RPCRouter) -> Void = { _ in },
        services: [any Service] = []
    ) async throws {
        try await run(roles: roles, register: register, extraListeners: [:]) { _ in services }
    }

    /// Runs the node like ``run(roles:register:services:)``, with more listeners in the ready
    /// line: `extraListeners` maps a listener's name to its host, and the services built by
    /// `makeServices` report its port on the ``StartupReport`` they are given.
    func run(
        roles: [String],
        register: (inout RPCRouter) -> Void,
        extraListeners: [String: String],
        makeServices: (StartupReport) -> [any Service]
    ) async throws {
        let readiness = self.readiness
        let rpcTLS = self.rpcTLS
        let mode = self.mode
        let config = self.config
        let dataPath = dataDirectory.path
        let listeners = Set(["admin", "rpc"] + extraListeners.keys)
        let listenerPorts = self.listenerPorts
        let report = StartupReport(expecting: listeners) { bound in
            listenerPorts.set(bound)
            let parts = bound.keys.sorted().map { name in
                let host = extraListeners[name] ?? (name == "admin" ? config.admin.host : config.rpc.listener.host)
                return "\(name)=\(host):\(bound[name] ?? 0)"
            }
            let line = "tributary \(mode) ready node=\(config.node.id) roles=\(roles.isEmpty ? "none" : roles.joined(separator: ",")) "
                + parts.joined(separator: " ") + " data=\(dataPath)"
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
            readiness.set("listeners", ready: true)
        }
        readiness.register("listeners")
        let admin = AdminServer(
            listener: config.admin,
            readiness: readiness,
            tokens: adminTokens,
            audit: audit,
            logger: Logger(label: "tributary.admin")
        ) { port in
            report.bound("admin", port: port)
        }
        var router = RPCRouter()
        NodeService(nodeID: String(config.node.id), roles: roles, version: TributaryVersion.current)
            .register(into: &router)
        register(&router)
        var rpcConfiguration = RPCServer.Configuration(
            host: config.rpc.listener.host, port: config.rpc.listener.port, maxFrameBytes: config.rpc.maxFrameBytes)
        rpcConfiguration.tlsSource = rpcTLS?.server
        let rpc = RPCServer(
            configuration: rpcConfiguration,
            router: router,
            logger: Logger(label: "tributary.rpc")
        )
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: admin), .init(service: RPCListenerService(server: rpc, report: report))]
                    + (rpcTLS.map { [ServiceGroupConfiguration.ServiceConfiguration(service: RPCTLSReloadService(reloader: $0, logger: logger))] } ?? [])
                    + makeServices(report).map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        Gauge(label: "tributary_node_info", dimensions: [
            ("node", String(config.node.id)), ("mode", mode), ("version", TributaryVersion.current),
        ]).record(1)
        logger.info("starting", metadata: ["mode": "\(mode)", "node": "\(config.node.id)", "data": "\(dataPath)"])
        try await group.run()
        logger.info("stopped cleanly")
        withExtendedLifetime(dataDirectory) {}
    }
}
