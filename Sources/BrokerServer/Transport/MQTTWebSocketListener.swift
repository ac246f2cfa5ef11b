import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import ServiceLifecycle

/// Accepts MQTT over WebSocket (`ws://`) or, with a TLS context, over secure WebSocket
/// (`wss://`).
///
/// Each connection starts as HTTP/1.1. A `GET` on ``Configuration/path`` that offers the `mqtt`
/// subprotocol is upgraded (the answer carries `Sec-WebSocket-Protocol: mqtt`); any other path is
/// answered 404 and any other request on the path 400, with one log line each. After the
/// upgrade the HTTP handlers are gone, an ``MQTTWebSocketFrameHandler`` turns frames into MQTT
/// bytes, and `configureMQTT` installs the MQTT decoder, encoder and connection handler after it
/// — the same function the TCP listener uses for raw MQTT bytes.
///
/// Use ``start()`` then ``shutdown()``, or run it as a swift-service-lifecycle `Service`.
public final class MQTTWebSocketListener: Service, Sendable {
    /// Listener settings.
    public struct Configuration: Sendable {
        /// Address to bind.
        public var host: String
        /// Port to bind; 0 picks a free port (reported to `onBound` and by ``localAddress``).
        public var port: Int
        /// The only path that upgrades.
        public var path: String
        /// TLS server context for `wss://`; nil serves plain `ws://`.
        public var tls: NIOSSLContext?
        /// The largest single WebSocket frame accepted; larger ones close the connection (1009).
        public var maximumFrameSize: Int
        /// The largest message accepted, continuation frames joined; larger ones close with 1009.
        public var maximumMessageSize: Int

        /// Creates a configuration; the defaults listen on a free loopback port at `/mqtt`.
        public init(
            host: String = "127.0.0.1",
            port: Int = 0,
            path: String = "/mqtt",
            tls: NIOSSLContext? = nil,
            maximumFrameSize: Int = 1 << 20,
            maximumMessageSize: Int = 1 << 20
        ) {
            self.host = host
            self.port = port
            self.path = path
            self.tls = tls
            self.maximumFrameSize = maximumFrameSize
            self.maximumMessageSize = maximumMessageSize
        }
    }

    private struct State {
        var serverChannel: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
    }

    /// The settings.
    public let configuration: Configuration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let configureMQTT: @Sendable (any Channel) -> EventLoopFuture<Void>
    private let onBound: (@Sendable (SocketAddress) -> Void)?
    private let state = NIOLockedValueBox(State())

    /// Creates a listener; nothing is bound until ``start()`` or ``run()``.
    ///
    /// - Parameters:
    ///   - configureMQTT: installs the MQTT handlers on an upgraded channel, which from then on
    ///     carries raw MQTT bytes (`ByteBuffer` in and out).
    ///   - onBound: called once with the bound address (useful with port 0).
    public init(
        configuration: Configuration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger,
        configureMQTT: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>,
        onBound: (@Sendable (SocketAddress) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.configureMQTT = configureMQTT
        self.onBound = onBound
    }

    /// The bound address (after ``start()``).
    public var localAddress: SocketAddress? {
        state.withLockedValue { $0.serverChannel?.localAddress }
    }

    /// Number of open connections (upgraded or still in the handshake).
    public var connectionCount: Int {
        state.withLockedValue { $0.connections.count }
    }

    /// Binds and starts accepting; returns the bound address. Calling it again returns the same.
    @discardableResult
    public func start() async throws -> SocketAddress {
        if let address = localAddress { return address }
        let configuration = self.configuration
        let logger = self.logger
        let configureMQTT = self.configureMQTT
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [weak self] channel in
                guard let self else { return channel.close() }
                self.track(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try Self.configureHandshake(channel: channel, configuration: configuration, logger: logger, configureMQTT: configureMQTT)
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        guard let address = channel.localAddress else {
            channel.close(promise: nil)
            throw ChannelError.unknownLocalAddress
        }
        state.withLockedValue { $0.serverChannel = channel }
        logger.info(
            "MQTT WebSocket listener bound",
            metadata: ["address": "\(address)", "path": "\(configuration.path)", "tls": "\(configuration.tls != nil)"]
        )
        onBound?(address)
        return address
    }

    /// Runs the listener until graceful shutdown (service-lifecycle entry point).
    public func run() async throws {
        try await start()
        guard let serverChannel = state.withLockedValue({ $0.serverChannel }) else { return }
        // Graceful shutdown, or a cancelled service group (another service failed), stops it.
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await serverChannel.closeFuture.get()
            } onGracefulShutdown: {
                serverChannel.close(promise: nil)
            }
        } onCancel: {
            serverChannel.close(promise: nil)
        }
        await shutdown()
    }

    /// Stops accepting new connections; open ones stay (the broker disconnects them first, so
    /// that their sessions end as a server shutdown rather than a dropped connection).
    public func stopAccepting() async {
        let serverChannel = state.withLockedValue { $0.serverChannel }
        try? await serverChannel?.close()
    }

    /// Stops accepting and closes every connection (each gets a WebSocket close frame).
    public func shutdown() async {
        let (serverChannel, connections) = state.withLockedValue { state in
            (state.serverChannel, Array(state.connections.values))
        }
        try? await serverChannel?.close()
        for connection in connections {
            try? await connection.close()
        }
    }

    private func track(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        state.withLockedValue { $0.connections[key] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.state.withLockedValue { $0.connections.removeValue(forKey: key) }
        }
    }

    /// TLS (optional), the HTTP server codec with the WebSocket upgrader, and the refusal
    /// answerer; on upgrade the frame handler and the MQTT handlers replace them.
    private static func configureHandshake(
        channel: any Channel,
        configuration: Configuration,
        logger: Logger,
        configureMQTT: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) throws {
        let sync = channel.pipeline.syncOperations
        if let tls = configuration.tls {
            try MQTTTLSListenerSupport.addServerHandler(context: tls, to: sync)
        }
        let policy = MQTTWebSocketUpgradePolicy(path: configuration.path)
        let maximumMessageSize = configuration.maximumMessageSize
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: configuration.maximumFrameSize,
            automaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                guard policy.decide(head) == .accept else { return channel.eventLoop.makeSucceededFuture(nil) }
                return channel.eventLoop.makeSucceededFuture(HTTPHeaders([("Sec-WebSocket-Protocol", MQTTWebSocketUpgradePolicy.subprotocol)]))
            },
            upgradePipelineHandler: { channel, head in
                logger.debug("MQTT WebSocket upgraded", metadata: ["uri": "\(head.uri)", "remote": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(MQTTWebSocketFrameHandler(maximumMessageSize: maximumMessageSize))
                }.flatMap {
                    configureMQTT(channel)
                }
            }
        )
        try sync.configureHTTPServerPipeline(
            withPipeliningAssistance: false,
            withServerUpgrade: (
                upgraders: [upgrader],
                completionHandler: { context in
                    context.pipeline.syncOperations.removeHandler(name: MQTTWebSocketRejectionHandler.name, promise: nil)
                }
            ),
            withErrorHandling: true
        )
        try sync.addHandler(MQTTWebSocketRejectionHandler(policy: policy, logger: logger), name: MQTTWebSocketRejectionHandler.name)
    }
}
