extension TributaryConfig {
    /// The MQTT broker's `mqtt.*` settings besides the listener's host and port.
    public struct MQTTBrokerSettings: Sendable, Equatable {
        /// `mqtt.max-connections`.
        public var maxConnections: Int
        /// `mqtt.max-packet-size`, in bytes.
        public var maxPacketSize: Int
        /// `mqtt.shards`.
        public var shards: Int
        /// `mqtt.max-queued-messages`.
        public var maxQueuedMessages: Int
        /// `mqtt.max-session-expiry`, in seconds.
        public var maxSessionExpiry: UInt32
        /// `mqtt.sys-interval`, in seconds (0: off).
        public var sysInterval: Int
        /// `mqtt.allow-anonymous`.
        public var allowAnonymous: Bool
    }
}
