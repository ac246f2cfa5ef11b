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
        /// `mqtt.allow-anonymous`; `nil` for `auto` (true in standalone, false in cluster mode,
        /// see ``allowsAnonymous(standalone:)``).
        public var allowAnonymous: Bool?
        /// `mqtt.receive-maximum`.
        public var receiveMaximum: Int = 65_535
        /// `mqtt.redirect-to`, or `nil` when empty.
        public var redirectTo: String? = nil
        /// `mqtt.redirect-permanent`.
        public var redirectPermanent: Bool = false

        /// Whether anonymous clients may connect: the explicit setting, else `standalone`.
        public func allowsAnonymous(standalone: Bool) -> Bool {
            allowAnonymous ?? standalone
        }
    }
}

extension TributaryConfig {
    /// The MQTT listeners besides plain TCP: WebSocket, TLS and secure WebSocket (`mqtt.ws.*`,
    /// `mqtt.tls.*`, `mqtt.wss.*`).
    public struct MQTTTransportSettings: Sendable, Equatable {
        /// `mqtt.ws.enabled`: whether the WebSocket listener runs.
        public var webSocketEnabled: Bool
        /// `mqtt.ws.port`.
        public var webSocketPort: Int
        /// `mqtt.ws.path` (also used by the secure WebSocket listener).
        public var webSocketPath: String
        /// `mqtt.tls.cert-file` and `mqtt.tls.key-file`; `nil` when unset (no TLS or WSS listener).
        public var tlsFiles: (certificate: String, privateKey: String)?
        /// `mqtt.tls.port`.
        public var tlsPort: Int
        /// `mqtt.wss.port`.
        public var secureWebSocketPort: Int
        /// `mqtt.tls.client-auth`: `none`, `optional` or `required`.
        public var tlsClientAuth: String = "none"
        /// `mqtt.tls.ca-file`, `nil` when empty.
        public var tlsCAFile: String? = nil

        public static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.webSocketEnabled == rhs.webSocketEnabled && lhs.webSocketPort == rhs.webSocketPort
                && lhs.webSocketPath == rhs.webSocketPath && lhs.tlsFiles?.certificate == rhs.tlsFiles?.certificate
                && lhs.tlsFiles?.privateKey == rhs.tlsFiles?.privateKey && lhs.tlsPort == rhs.tlsPort
                && lhs.secureWebSocketPort == rhs.secureWebSocketPort && lhs.tlsClientAuth == rhs.tlsClientAuth
                && lhs.tlsCAFile == rhs.tlsCAFile
        }
    }
}
