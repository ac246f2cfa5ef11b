import ArgumentParser
import BrokerServer
import Foundation
import JournalServer
import Logging
import MetaService
import NIOCore
import NIOSSL
import ServiceLifecycle
import Shared

/// Starts the MQTT broker role in a node process: an ``MQTTBroker`` over the node's journal and
/// meta (in standalone both in-process, through ``InProcessTransport``s) and its TCP listener.
enum BrokerWiring {
    /// The broker's settings from the node's configuration.
    static func brokerConfiguration(_ config: TributaryConfig, standalone: Bool = true) -> MQTTBrokerConfiguration {
        let settings = config.mqttBroker
        var session = MQTTSessionConfiguration(
            receiveMaximum: UInt16(clamping: settings.receiveMaximum),
            maximumPacketSize: UInt32(clamping: settings.maxPacketSize),
            maximumSessionExpiryInterval: settings.maxSessionExpiry,
            maximumQueuedMessages: settings.maxQueuedMessages)
        session.serverRedirection = settings.redirectTo.map {
            MQTTServerRedirection(serverReference: $0, permanent: settings.redirectPermanent)
        }
        return MQTTBrokerConfiguration(
            session: session,
            maximumPacketSize: settings.maxPacketSize,
            maximumConnections: settings.maxConnections,
            shardCount: settings.shards,
            sysInterval: settings.sysInterval,
            allowAnonymous: settings.allowsAnonymous(standalone: standalone),
            version: "tributary \(TributaryVersion.current)")
    }

    /// The listeners the broker role binds, by the name the ready line gives them, with their hosts:
    /// `mqtt` always, `mqtt-ws` unless disabled, `mqtt-tls` and `mqtt-wss` when a certificate is set.
    static func listenerNames(_ config: TributaryConfig) -> [String: String] {
        var names = ["mqtt": config.mqtt.host]
        if config.mqttTransport.webSocketEnabled { names["mqtt-ws"] = config.mqtt.host }
        if config.mqttTransport.tlsFiles != nil {
            names["mqtt-tls"] = config.mqtt.host
            names["mqtt-wss"] = config.mqtt.host
        }
        return names
    }

    /// The server TLS context for `mqtt.tls.*`, or `nil` when no certificate is configured. A
    /// certificate that cannot be used stops the process (exit 78) with the reason.
    static func tlsContext(_ config: TributaryConfig) throws -> NIOSSLContext? {
        guard let files = config.mqttTransport.tlsFiles else { return nil }
        do {
            let transport = config.mqttTransport
            return try MQTTTLSListenerSupport.makeServerContext(MQTTTLSConfiguration(
                certificateFile: files.certificate, privateKeyFile: files.privateKey, clientCAFile: transport.tlsCAFile,
                clientVerification: MQTTTLSConfiguration.ClientVerification(rawValue: transport.tlsClientAuth) ?? .none))
        } catch {
            FileHandle.standardError.write(Data("tributary: configuration refused: mqtt.tls: \(error)\n".utf8))
            throw ExitCode(78)
        }
    }

    /// The broker role over `journal` and the meta service registered by `registerMeta`.
    /// The broker's authentication: the chain `auth.*` describes over the user records in meta.
    struct Authentication: Sendable {
        /// The user records (loaded and watched once the broker role runs).
        let users: MQTTUserDirectory
        /// The chain of mechanisms.
        let chain: MQTTAuthChain
        /// Whether clients without a user name may connect.
        let allowAnonymous: Bool
    }

    /// The authentication `auth.*` and `mqtt.allow-anonymous` describe (`auto`: allowed only in
    /// standalone); a key file or URL that cannot be used stops the process (exit 78) with the reason.
    static func authentication(_ config: TributaryConfig, standalone: Bool) throws -> Authentication {
        let logger = Logger(label: "tributary.mqtt.auth")
        let users = MQTTUserDirectory(logger: logger)
        let allowAnonymous = config.mqttBroker.allowsAnonymous(standalone: standalone)
        do {
            let chain = try MQTTAuthChain.configured(config.auth, allowAnonymous: allowAnonymous, directory: users, logger: logger)
            return Authentication(users: users, chain: chain, allowAnonymous: allowAnonymous)
        } catch {
            FileHandle.standardError.write(Data("tributary: configuration refused: \(error)\n".utf8))
            throw ExitCode(78)
        }
    }

    static func makeService(
        config: TributaryConfig, assembly: NodeAssembly, journal: JournalClient, tls: NIOSSLContext?,
        authentication: Authentication, registerMeta: (inout RPCRouter) -> Void, report: StartupReport
    ) -> MQTTBrokerService {
        var metaRouter = RPCRouter()
        registerMeta(&metaRouter)
        let router = metaRouter
        let metaTransport = InProcessTransport(router: router, logger: Logger(label: "tributary.mqtt.meta"))
        let meta = MetaClient(addresses: ["local"], options: MetaClient.Options(timeout: .seconds(60))) { _ in metaTransport }
        let access = MQTTAccessControl(
            configuration: accessConfiguration(config), audit: assembly.audit, logger: Logger(label: "tributary.mqtt"))
        var configuration = brokerConfiguration(config)
        configuration.allowAnonymous = authentication.allowAnonymous
        let broker = MQTTBroker(
            configuration: configuration, journal: journal, meta: meta, authenticator: authentication.chain, authorizer: access,
            logger: Logger(label: "tributary.mqtt"))
        return makeService(
            config: config, assembly: assembly, broker: broker, users: authentication.users, access: access, meta: meta, tls: tls,
            report: report)
    }

    /// The broker role around `broker` (its listeners from the node's configuration); `users`
    /// and `access` (the user directory and the ACL/ban/limit state) are loaded and watched from
    /// `meta` when it starts.
    static func makeService(
        config: TributaryConfig, assembly: NodeAssembly, broker: MQTTBroker, users: MQTTUserDirectory,
        access: MQTTAccessControl, meta: MetaClient, tls: NIOSSLContext?, report: StartupReport
    ) -> MQTTBrokerService {
        let logger = Logger(label: "tributary.mqtt")
        let configureMQTT: @Sendable (any Channel) -> EventLoopFuture<Void> = { broker.configureMQTT($0) }
        var listeners: [MQTTBrokerService.Listener] = [
            .tcp("mqtt", MQTTListener(configuration: .init(host: config.mqtt.host, port: config.mqtt.port), broker: broker, logger: logger)),
        ]
        let transport = config.mqttTransport
        let maximumMessageSize = config.mqttBroker.maxPacketSize + 8
        if transport.webSocketEnabled {
            listeners.append(.webSocket("mqtt-ws", MQTTWebSocketListener(
                configuration: .init(host: config.mqtt.host, port: transport.webSocketPort, path: transport.webSocketPath,
                                     maximumFrameSize: maximumMessageSize, maximumMessageSize: maximumMessageSize),
                logger: logger, configureMQTT: configureMQTT)))
        }
        if let tls {
            listeners.append(.tcp("mqtt-tls", MQTTListener(
                configuration: .init(host: config.mqtt.host, port: transport.tlsPort, tls: tls), broker: broker, logger: logger)))
            listeners.append(.webSocket("mqtt-wss", MQTTWebSocketListener(
                configuration: .init(host: config.mqtt.host, port: transport.secureWebSocketPort, path: transport.webSocketPath,
                                     tls: tls, maximumFrameSize: maximumMessageSize, maximumMessageSize: maximumMessageSize),
                logger: logger, configureMQTT: configureMQTT)))
        }
        assembly.readiness.register("mqtt")
        return MQTTBrokerService(
            broker: broker, users: users, meta: meta, listeners: listeners, readiness: assembly.readiness,
            report: report, access: access)
    }
}

/// Runs the broker until graceful shutdown: starts it (shards, retained index, stored sessions),
/// binds the listener and reports its port; on shutdown stops accepting, disconnects every
/// client (5.0: 0x8B) and persists their sessions.
struct MQTTBrokerService: Service {
    /// One client listener and the name the ready line gives its port.
    enum Listener: Sendable {
        case tcp(String, MQTTListener)
        case webSocket(String, MQTTWebSocketListener)

        /// Its ready-line name and configured address.
        var endpoint: (name: String, host: String, port: Int) {
            switch self {
            case .tcp(let name, let tcp): (name, tcp.configuration.host, tcp.configuration.port)
            case .webSocket(let name, let webSocket): (name, webSocket.configuration.host, webSocket.configuration.port)
            }
        }
    }

    let broker: MQTTBroker
    /// The user records the password and SCRAM authenticators read, loaded before listening.
    let users: MQTTUserDirectory
    /// The meta client the user records are read through.
    let meta: MetaClient
    let listeners: [Listener]
    let readiness: NodeReadiness
    let report: StartupReport
    let access: MQTTAccessControl

    func run() async throws {
        try await users.start(meta: meta)
        defer { users.stop() }
        try await broker.start()
        // ACL rules and bans are in force before the first client is accepted.
        await access.start(broker: broker, meta: meta)
        for listener in listeners {
            let (name, host, port) = listener.endpoint
            do {
                switch listener {
                case .tcp(_, let tcp):
                    let address = try await tcp.start()
                    report.bound(name, port: address.port ?? port)
                case .webSocket(_, let webSocket):
                    let address = try await webSocket.start()
                    report.bound(name, port: address.port ?? port)
                }
            } catch {
                // A listener that cannot bind stops the node with its name and address, after the
                // broker (already following its journal shards) and the other listeners stop.
                FileHandle.standardError.write(Data("tributary: cannot listen for \(name) on \(host):\(port): \(error)\n".utf8))
                await stop()
                throw error
            }
        }
        readiness.set("mqtt", ready: true)
        try? await gracefulShutdown()
        readiness.set("mqtt", ready: false)
        await stop()
    }

    private func stop() async {
        // Stop accepting everywhere, let the broker disconnect its clients (5.0: 0x8B) and store
        // their sessions, then close what a WebSocket listener still holds.
        for listener in listeners {
            switch listener {
            case .tcp(_, let tcp): await tcp.stop()
            case .webSocket(_, let webSocket): await webSocket.stopAccepting()
            }
        }
        await broker.shutdown()
        access.stop()
        for case .webSocket(_, let webSocket) in listeners { await webSocket.shutdown() }
    }
}
