import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// Serves an ``RPCRouter`` on a TCP port (optionally TLS).
///
/// Use ``start()`` then ``shutdown()``, or run it as a swift-service-lifecycle `Service` in a
/// `ServiceGroup`: ``run()`` binds, serves until graceful shutdown is triggered, then stops
/// accepting, lets in-flight calls finish for up to the grace period, cancels the rest and closes.
public final class RPCServer: Service, Sendable {
    /// Server settings.
    public struct Configuration: Sendable {
        /// Address to bind.
        public var host: String
        /// Port to bind; 0 picks a free port (read it from ``RPCServer/localAddress``).
        public var port: Int
        /// TLS server context (nil = plain TCP).
        public var tls: NIOSSLContext?
        /// Largest frame body accepted from clients.
        public var maxFrameBytes: Int
        /// How long in-flight calls may run after shutdown begins.
        public var shutdownGracePeriod: TimeAmount
        /// A replaceable TLS context read for every accepted connection; takes precedence over
        /// ``tls`` (certificate reload without a restart).
        public var tlsSource: RPCTLSSource? = nil

        /// Creates a configuration.
        public init(
            host: String = "127.0.0.1",
            port: Int = 0,
            tls: NIOSSLContext? = nil,
            maxFrameBytes: Int = RPCFrame.defaultMaxFrameBytes,
            shutdownGracePeriod: TimeAmount = .seconds(5)
        ) {
            self.host = host
            self.port = port
            self.tls = tls
            self.maxFrameBytes = maxFrameBytes
            self.shutdownGracePeriod = shutdownGracePeriod
        }
    }

    private struct State {
        var serverChannel: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var draining = false
    }

    /// The settings.
    public let configuration: Configuration
    private let router: RPCRouter
    private let group: any EventLoopGroup
    private let logger: Logger
    private let metrics = RPCMetrics(role: "server")
    private let state = NIOLockedValueBox(State())
    private let stopped: EventLoopPromise<Void>

    /// Creates a server; nothing is bound until ``start()`` or ``run()``.
    public init(configuration: Configuration, router: RPCRouter, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.configuration = configuration
        self.router = router
        self.group = group
        self.logger = logger
        self.stopped = group.next().makePromise(of: Void.self)
    }

    deinit {
        // Nobody can wait on it any more; complete it so it is not reported as leaked.
        self.stopped.succeed()
    }

    /// The bound address (after ``start()``).
    public var localAddress: SocketAddress? {
        self.state.withLockedValue { $0.serverChannel?.localAddress }
    }

    /// Number of open client connections.
    public var connectionCount: Int {
        self.state.withLockedValue { $0.connections.count }
    }

    /// Binds and starts accepting; returns the bound address. Calling it again returns the same.
    @discardableResult
    public func start() async throws -> SocketAddress {
        if let address = self.localAddress {
            return address
        }
        let configuration = self.configuration
        let router = self.router
        let logger = self.logger
        let metrics = self.metrics
        let channel = try await ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [weak self] channel in
                guard let self else { return channel.close() }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls = configuration.tlsSource?.context ?? configuration.tls {
                        try sync.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    try sync.addHandler(RPCServerConnectionHandler(
                        router: router,
                        logger: logger,
                        metrics: metrics,
                        maxFrameBytes: configuration.maxFrameBytes
                    ))
                }.flatMap {
                    self.track(channel)
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        self.state.withLockedValue { $0.serverChannel = channel }
        guard let address = channel.localAddress else {
            throw RPCError(.internal, "server channel has no local address")
        }
        logger.info("RPC server listening", metadata: ["address": "\(address)", "tls": "\(configuration.tls != nil || configuration.tlsSource != nil)"])
        return address
    }

    private func track(_ channel: any Channel) -> EventLoopFuture<Void> {
        let key = ObjectIdentifier(channel)
        let draining = self.state.withLockedValue { state in
            state.connections[key] = channel
            return state.draining
        }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.state.withLockedValue { $0.connections.removeValue(forKey: key) }
        }
        if draining {
            channel.pipeline.fireUserInboundEventTriggered(RPCServerDrainEvent())
        }
        return channel.eventLoop.makeSucceededVoidFuture()
    }

    /// Runs the server until graceful shutdown (service-lifecycle entry point).
    public func run() async throws {
        try await self.start()
        guard let serverChannel = self.state.withLockedValue({ $0.serverChannel }) else { return }
        // A graceful shutdown or a cancelled service group (another service failed) both stop
        // accepting; then calls in flight are drained.
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await serverChannel.closeFuture.get()
            } onGracefulShutdown: {
                serverChannel.close(promise: nil)
            }
        } onCancel: {
            serverChannel.close(promise: nil)
        }
        await self.drain()
    }

    /// Stops accepting, lets in-flight calls finish within the grace period, then closes every
    /// connection (cancelling what is still running).
    public func shutdown() async {
        let serverChannel = self.state.withLockedValue { $0.serverChannel }
        try? await serverChannel?.close()
        await self.drain()
    }

    private func drain() async {
        let (first, connections) = self.state.withLockedValue { state -> (Bool, [any Channel]) in
            defer { state.draining = true }
            return (!state.draining, Array(state.connections.values))
        }
        guard first else {
            try? await self.stopped.futureResult.get()
            return
        }
        for channel in connections {
            channel.pipeline.fireUserInboundEventTriggered(RPCServerDrainEvent())
        }
        let grace = self.configuration.shutdownGracePeriod
        let force = self.group.next().scheduleTask(in: grace) { [weak self] in
            let remaining = self?.state.withLockedValue { Array($0.connections.values) } ?? []
            for channel in remaining {
                channel.close(promise: nil)
            }
        }
        for channel in connections {
            try? await channel.closeFuture.get()
        }
        // Connections accepted while we were closing the listener.
        let late = self.state.withLockedValue { Array($0.connections.values) }
        for channel in late {
            try? await channel.closeFuture.get()
        }
        force.cancel()
        self.logger.info("RPC server stopped")
        self.stopped.succeed()
    }
}
