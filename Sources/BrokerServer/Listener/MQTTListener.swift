import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// The MQTT TCP listener: accepts connections on a host and port and installs the broker's MQTT
/// pipeline (``MQTTBroker/configureMQTT(_:)``) on each.
public final class MQTTListener: Sendable {
    /// Where to listen.
    public struct Configuration: Sendable {
        /// The bind address.
        public var host: String
        /// The port; 0 picks a free one (see ``start()``'s result).
        public var port: Int
        /// The accept backlog.
        public var backlog: Int32
        /// TLS for MQTT over TLS (`mqtts`), or `nil` for plain TCP.
        public var tls: NIOSSLContext?

        /// A configuration.
        public init(host: String, port: Int, backlog: Int32 = 256, tls: NIOSSLContext? = nil) {
            self.host = host
            self.port = port
            self.backlog = backlog
            self.tls = tls
        }
    }

    /// Where it listens.
    public let configuration: Configuration
    let broker: MQTTBroker
    let group: any EventLoopGroup
    let logger: Logger
    private let channel: NIOLockedValueBox<(any Channel)?> = NIOLockedValueBox(nil)

    /// A listener feeding `broker`, its connections spread over `group`'s event loops.
    public init(
        configuration: Configuration, broker: MQTTBroker,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger
    ) {
        self.configuration = configuration
        self.broker = broker
        self.group = group
        self.logger = logger
    }

    /// Binds and starts accepting; returns the bound address (its port is the real one when
    /// ``Configuration/port`` is 0).
    public func start() async throws -> SocketAddress {
        let broker = self.broker
        let tls = configuration.tls
        let bound = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: configuration.backlog)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: false)
            .childChannelInitializer { channel in
                guard let tls else { return broker.configureMQTT(channel) }
                do {
                    try MQTTTLSListenerSupport.addServerHandler(context: tls, to: channel.pipeline.syncOperations)
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
                return broker.configureMQTT(channel)
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        channel.withLockedValue { $0 = bound }
        guard let address = bound.localAddress else { throw ChannelError.unknownLocalAddress }
        logger.info("mqtt listening", metadata: ["address": "\(address)", "tls": "\(tls != nil)"])
        return address
    }

    /// Stops accepting new connections (open ones stay until the broker shuts down).
    public func stop() async {
        let bound = channel.withLockedValue { channel in
            defer { channel = nil }
            return channel
        }
        try? await bound?.close()
    }
}
