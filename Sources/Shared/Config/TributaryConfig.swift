import Logging

/// The validated configuration of one Tributary process, built by ``ConfigLoader`` from
/// (highest precedence first) command-line flags, `TRIBUTARY_…` environment variables, the YAML
/// file and the defaults in ``ConfigCatalog``.
public struct TributaryConfig: Sendable, Equatable {
    /// Identity and storage of this node.
    public struct Node: Sendable, Equatable {
        /// Unique node id in the cluster.
        public var id: Int
        /// Directory holding all durable state.
        public var dataDir: String
    }

    /// A host and port to listen on.
    public struct Listener: Sendable, Equatable, CustomStringConvertible {
        /// Bind address.
        public var host: String
        /// Bind port; 0 means any free port.
        public var port: Int

        public var description: String { "\(host):\(port)" }
    }

    /// PEM files for TLS; all nil means plain TCP.
    public struct TLSFiles: Sendable, Equatable {
        /// Certificate chain.
        public var certificateFile: String?
        /// Private key.
        public var privateKeyFile: String?
        /// CA bundle to verify peers.
        public var caFile: String?

        /// Whether TLS is configured.
        public var isEnabled: Bool { certificateFile != nil }
    }

    /// The internal RPC endpoint.
    public struct RPC: Sendable, Equatable {
        /// Where it listens.
        public var listener: Listener
        /// Largest accepted frame body.
        public var maxFrameBytes: Int
        /// TLS material.
        public var tls: TLSFiles
    }

    /// How logs are written.
    public enum LogFormat: String, Sendable, Equatable {
        /// Human-readable lines.
        case text
        /// One JSON object per line.
        case json
    }

    /// Logging settings.
    public struct Log: Sendable, Equatable {
        /// Lowest level logged.
        public var level: Logger.Level
        /// Line format.
        public var format: LogFormat
    }

    /// Node identity and storage.
    public var node: Node
    /// Internal RPC.
    public var rpc: RPC
    /// Admin HTTP API.
    public var admin: Listener
    /// MQTT TCP listener.
    public var mqtt: Listener
    /// MQTT broker limits and behaviour (`mqtt.*` besides host and port).
    public var mqttBroker: MQTTBrokerSettings
    /// The MQTT WebSocket, TLS and secure WebSocket listeners.
    public var mqttTransport: MQTTTransportSettings
    /// MQTT authentication (`auth.*`).
    public var auth: AuthSettings
    /// Logging.
    public var log: Log
    /// Authorization, bans, limits, audit log and admin API authentication.
    public var security: SecuritySettings
}

extension TributaryConfig {
    /// Builds the typed configuration from resolved, already validated raw values.
    init(resolved value: (String) -> String) throws(ConfigurationError) {
        func int(_ key: String) -> Int { Int(value(key).trimmingSpaces) ?? 0 }
        func optional(_ key: String) -> String? {
            let raw = value(key).trimmingSpaces
            return raw.isEmpty ? nil : raw
        }
        let tls = TLSFiles(
            certificateFile: optional("rpc.tls.cert-file"),
            privateKeyFile: optional("rpc.tls.key-file"),
            caFile: optional("rpc.tls.ca-file")
        )
        if (tls.certificateFile == nil) != (tls.privateKeyFile == nil) {
            throw .inconsistent(
                key: tls.certificateFile == nil ? "rpc.tls.cert-file" : "rpc.tls.key-file",
                problem: "rpc.tls.cert-file and rpc.tls.key-file must be set together"
            )
        }
        if tls.caFile != nil && tls.certificateFile == nil {
            throw .inconsistent(key: "rpc.tls.ca-file", problem: "set only together with rpc.tls.cert-file and rpc.tls.key-file")
        }
        self.node = Node(id: int("node.id"), dataDir: value("node.data-dir").trimmingSpaces)
        self.rpc = RPC(
            listener: Listener(host: value("rpc.host").trimmingSpaces, port: int("rpc.port")),
            maxFrameBytes: int("rpc.max-frame-bytes"),
            tls: tls
        )
        self.admin = Listener(host: value("admin.host").trimmingSpaces, port: int("admin.port"))
        self.mqtt = Listener(host: value("mqtt.host").trimmingSpaces, port: int("mqtt.port"))
        self.mqttBroker = MQTTBrokerSettings(
            maxConnections: int("mqtt.max-connections"),
            maxPacketSize: int("mqtt.max-packet-size"),
            shards: int("mqtt.shards"),
            maxQueuedMessages: int("mqtt.max-queued-messages"),
            maxSessionExpiry: UInt32(clamping: int("mqtt.max-session-expiry")),
            sysInterval: int("mqtt.sys-interval"),
            allowAnonymous: ["true": true, "false": false][value("mqtt.allow-anonymous").trimmingSpaces],
            receiveMaximum: int("mqtt.receive-maximum"),
            redirectTo: optional("mqtt.redirect-to"),
            redirectPermanent: value("mqtt.redirect-permanent").trimmingSpaces == "true",
            shardReplicas: int("mqtt.shard-replicas")
        )
        let mqttCertificate = optional("mqtt.tls.cert-file")
        let mqttKey = optional("mqtt.tls.key-file")
        if (mqttCertificate == nil) != (mqttKey == nil) {
            throw .inconsistent(
                key: mqttCertificate == nil ? "mqtt.tls.cert-file" : "mqtt.tls.key-file",
                problem: "mqtt.tls.cert-file and mqtt.tls.key-file must be set together"
            )
        }
        if !value("mqtt.ws.path").trimmingSpaces.hasPrefix("/") {
            throw .inconsistent(key: "mqtt.ws.path", problem: "must start with '/'")
        }
        self.mqttTransport = MQTTTransportSettings(
            webSocketEnabled: value("mqtt.ws.enabled").trimmingSpaces == "true",
            webSocketPort: int("mqtt.ws.port"),
            webSocketPath: value("mqtt.ws.path").trimmingSpaces,
            tlsFiles: mqttCertificate.flatMap { certificate in mqttKey.map { (certificate, $0) } },
            tlsPort: int("mqtt.tls.port"),
            secureWebSocketPort: int("mqtt.wss.port"),
            tlsClientAuth: value("mqtt.tls.client-auth").trimmingSpaces,
            tlsCAFile: optional("mqtt.tls.ca-file")
        )
        if mqttTransport.tlsClientAuth != "none" && mqttTransport.tlsCAFile == nil {
            throw .inconsistent(key: "mqtt.tls.ca-file", problem: "must be set when mqtt.tls.client-auth is '\(mqttTransport.tlsClientAuth)'")
        }
        if mqttTransport.tlsClientAuth != "none" && mqttTransport.tlsFiles == nil {
            throw .inconsistent(key: "mqtt.tls.client-auth", problem: "needs mqtt.tls.cert-file and mqtt.tls.key-file (client certificates are checked on the TLS listeners)")
        }
        self.auth = try AuthSettings(resolved: value)
        self.security = SecuritySettings(resolved: value)
        self.log = Log(
            level: Logger.Level(rawValue: value("log.level").trimmingSpaces) ?? .info,
            format: LogFormat(rawValue: value("log.format").trimmingSpaces) ?? .text
        )
    }

    /// The configuration with every key at its default.
    public static var defaults: TributaryConfig {
        // The catalog's defaults are valid by construction (a test checks it).
        (try? TributaryConfig(resolved: { name in ConfigCatalog.spec(named: name)?.defaultValue ?? "" }))!
    }
}
