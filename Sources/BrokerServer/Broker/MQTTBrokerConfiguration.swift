import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// The settings of one ``MQTTBroker`` (the `mqtt.*` configuration keys).
public struct MQTTBrokerConfiguration: Sendable {
    /// Limits and capabilities announced to every connection. The broker's default announces no
    /// Receive Maximum (65535): inbound QoS 1/2 flow is limited by TCP back-pressure instead
    /// (a connection with 1,024 journal appends outstanding is not read from), since common
    /// clients (paho-mqtt) do not honour a server's Receive Maximum and would be disconnected.
    public var session: MQTTSessionConfiguration
    /// The largest packet accepted from a client (the decoder's limit), in bytes.
    public var maximumPacketSize: Int
    /// How many client connections may be open at once; one more is refused (CONNACK 0x97 for
    /// 5.0, closed for 3.x).
    public var maximumConnections: Int
    /// The number of message shards `mqtt-0` … `mqtt-<P-1>`; a topic's shard is the FNV-1a hash of
    /// its UTF-8 name modulo this.
    public var shardCount: Int
    /// Seconds between `$SYS` publications (0: none).
    public var sysInterval: Int
    /// Whether clients without a user name may connect (used by the default authenticator).
    public var allowAnonymous: Bool
    /// How often connections check keep alive and message expiry.
    public var tickInterval: TimeAmount
    /// The version string published on `$SYS/broker/version`.
    public var version: String
    /// This broker's node id in a cluster of stateless brokers (`tributary broker`); `nil` when the
    /// broker is the only one over its journal and meta (standalone).
    public var brokerID: Int?
    /// Replicas of each shard the broker creates (``MQTTJournal/ensureShard(_:replicationFactor:)``).
    public var shardReplicationFactor: Int = 1
    /// How long a broker taking a session over from a live broker waits for its final state.
    public var handoverTimeout: TimeAmount = .seconds(5)

    /// Settings; the defaults match the configuration catalogue.
    public init(
        session: MQTTSessionConfiguration = MQTTSessionConfiguration(receiveMaximum: UInt16.max),
        maximumPacketSize: Int = 1 << 20,
        maximumConnections: Int = 100_000,
        shardCount: Int = 16,
        sysInterval: Int = 10,
        allowAnonymous: Bool = true,
        tickInterval: TimeAmount = .seconds(1),
        version: String = "tributary"
    ) {
        self.session = session
        self.maximumPacketSize = maximumPacketSize
        self.maximumConnections = max(maximumConnections, 0)
        self.shardCount = max(shardCount, 1)
        self.sysInterval = max(sysInterval, 0)
        self.allowAnonymous = allowAnonymous
        self.tickInterval = tickInterval
        self.version = version
    }
}
