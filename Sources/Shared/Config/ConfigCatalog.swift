/// Every configuration key Tributary understands, with its default. This list is the single
/// source of truth: the loader validates against it, `tributary config keys` prints it, and a
/// test keeps `docs/configuration.md` in step with it.
public enum ConfigCatalog {
    /// All keys, in documentation order.
    public static let keys: [ConfigKeySpec] = [
        ConfigKeySpec("node.id", .integer(1...65535), default: "1",
                      "This node's id, unique in the cluster."),
        ConfigKeySpec("node.data-dir", .text(allowEmpty: false), default: "./data",
                      "Directory for all durable state (Raft log, journal segments); created if missing and locked while running."),
        ConfigKeySpec("rpc.host", .text(allowEmpty: false), default: "127.0.0.1",
                      "Address the internal binary RPC listens on (ctl and, in cluster mode, other nodes connect here)."),
        ConfigKeySpec("rpc.port", .port, default: "9870",
                      "Port of the internal binary RPC."),
        ConfigKeySpec("rpc.max-frame-bytes", .integer(1024...(1 << 30)), default: "16777216",
                      "Largest RPC frame body accepted; a frame declaring more is refused before it is buffered."),
        ConfigKeySpec("rpc.tls.cert-file", .text(allowEmpty: true), default: "",
                      "PEM certificate chain for the RPC listener and client; empty means plain TCP."),
        ConfigKeySpec("rpc.tls.key-file", .text(allowEmpty: true), default: "",
                      "PEM private key matching rpc.tls.cert-file."),
        ConfigKeySpec("rpc.tls.ca-file", .text(allowEmpty: true), default: "",
                      "PEM CA bundle used to verify peers; empty means the system trust roots."),
        ConfigKeySpec("admin.host", .text(allowEmpty: false), default: "127.0.0.1",
                      "Address of the admin HTTP API (/metrics, /health/live, /health/ready)."),
        ConfigKeySpec("admin.port", .port, default: "9880",
                      "Port of the admin HTTP API."),
        ConfigKeySpec("mqtt.host", .text(allowEmpty: false), default: "0.0.0.0",
                      "Address the MQTT TCP listener binds to."),
        ConfigKeySpec("mqtt.port", .port, default: "1883",
                      "Port of the MQTT TCP listener."),
        ConfigKeySpec("mqtt.max-connections", .integer(1...10_000_000), default: "100000",
                      "Most MQTT connections open at once; one more is refused (CONNACK 0x97 for MQTT 5, closed for 3.x)."),
        ConfigKeySpec("mqtt.max-packet-size", .integer(64...268_435_460), default: "1048576",
                      "Largest MQTT packet accepted from a client, in bytes; a larger one closes the connection (0x95)."),
        ConfigKeySpec("mqtt.shards", .integer(1...1024), default: "16",
                      "Number of journal shards (mqtt-0 … mqtt-N-1) MQTT messages are spread over by a hash of the topic; keep it fixed for a data directory."),
        ConfigKeySpec("mqtt.shard-replicas", .integer(1...5), default: "1",
                      "Replicas of each MQTT journal shard a cluster broker (tributary broker) creates; with 3, publishing survives the loss of a journal node. Standalone always has one."),
        ConfigKeySpec("mqtt.max-queued-messages", .integer(0...10_000_000), default: "1000",
                      "Messages kept per session behind its in-flight window (also for replay after an offline period); beyond it the oldest is dropped and counted."),
        ConfigKeySpec("mqtt.max-session-expiry", .integer(0...4_294_967_295), default: "86400",
                      "Longest session expiry interval granted to an MQTT 5 client, in seconds."),
        ConfigKeySpec("mqtt.sys-interval", .integer(0...86_400), default: "10",
                      "Seconds between $SYS/broker/… publications (retained); 0 disables them."),
        ConfigKeySpec("mqtt.allow-anonymous", .choice(["auto", "true", "false"]), default: "auto",
                      "Whether MQTT clients without a user name (that no auth.chain mechanism accepted) may connect; `auto` is true for `tributary standalone` and false for `tributary broker` (cluster mode)."),
        ConfigKeySpec("mqtt.receive-maximum", .integer(1...65_535), default: "65535",
                      "Receive Maximum the broker announces to MQTT 5 clients: unacknowledged QoS 1/2 PUBLISH a client may send at once; one more closes the connection (0x93). 65535 is not announced (the protocol default)."),
        ConfigKeySpec("mqtt.redirect-to", .text(allowEmpty: true), default: "",
                      "When set (host[:port]), every MQTT CONNECT is refused with a redirection there: 5.0 clients get 0x9C Use another server (0x9D Server moved with mqtt.redirect-permanent) and the Server Reference, 3.x clients return code 3. Empty accepts connections."),
        ConfigKeySpec("mqtt.redirect-permanent", .boolean, default: "false",
                      "Whether mqtt.redirect-to is permanent (0x9D Server moved) rather than temporary (0x9C Use another server)."),
        ConfigKeySpec("mqtt.ws.enabled", .boolean, default: "true",
                      "Whether MQTT over WebSocket is served (on mqtt.host, mqtt.ws.port, path mqtt.ws.path, subprotocol `mqtt`)."),
        ConfigKeySpec("mqtt.ws.port", .port, default: "8083",
                      "Port of the MQTT over WebSocket listener."),
        ConfigKeySpec("mqtt.ws.path", .text(allowEmpty: false), default: "/mqtt",
                      "HTTP path that upgrades to MQTT over WebSocket (other paths get 404); also used for secure WebSocket."),
        ConfigKeySpec("mqtt.tls.cert-file", .text(allowEmpty: true), default: "",
                      "PEM certificate chain for MQTT over TLS and secure WebSocket; empty means neither listener runs."),
        ConfigKeySpec("mqtt.tls.key-file", .text(allowEmpty: true), default: "",
                      "PEM private key matching mqtt.tls.cert-file (set both or neither)."),
        ConfigKeySpec("mqtt.tls.port", .port, default: "8883",
                      "Port of the MQTT over TLS listener (runs when mqtt.tls.cert-file is set)."),
        ConfigKeySpec("mqtt.wss.port", .port, default: "8084",
                      "Port of the MQTT over secure WebSocket listener (runs when mqtt.tls.cert-file is set)."),
        ConfigKeySpec("mqtt.tls.client-auth", .choice(["none", "optional", "required"]), default: "none",
                      "Client certificates on the TLS and secure WebSocket listeners: `none` asks for none, `optional` verifies one if presented, `required` refuses a handshake without a certificate mqtt.tls.ca-file verifies (untrusted and expired certificates are always refused)."),
        ConfigKeySpec("mqtt.tls.ca-file", .text(allowEmpty: true), default: "",
                      "PEM CA bundle that verifies MQTT client certificates; needed when mqtt.tls.client-auth is not `none`."),
        ConfigKeySpec("auth.chain", .text(allowEmpty: true), default: "x509,password,jwt,http",
                      "Order in which MQTT authentication mechanisms (x509, password, jwt, http) are asked, comma separated; the first definitive answer wins. A listed mechanism takes part only when configured (x509: auth.x509.username-from-cn, jwt: auth.jwt.enabled, http: auth.http.url; password always). Empty: only mqtt.allow-anonymous decides."),
        ConfigKeySpec("auth.x509.username-from-cn", .boolean, default: "false",
                      "Whether a client certificate verified by the TLS handshake authenticates the connection, its common name (CN) being the user name."),
        ConfigKeySpec("auth.jwt.enabled", .boolean, default: "false",
                      "Whether a JWT passed as the MQTT CONNECT password authenticates the client."),
        ConfigKeySpec("auth.jwt.hs256-secret-files", .text(allowEmpty: true), default: "",
                      "HS256 secrets, comma-separated `kid=path` (or just `path`, kid = file name); each file holds at least 32 bytes."),
        ConfigKeySpec("auth.jwt.public-key-files", .text(allowEmpty: true), default: "",
                      "RS256 (RSA) and ES256 (P-256) public keys in PEM, comma-separated `kid=path`; several keys at once rotate keys by kid."),
        ConfigKeySpec("auth.jwt.issuer", .text(allowEmpty: true), default: "",
                      "Required `iss` claim; empty accepts any."),
        ConfigKeySpec("auth.jwt.audience", .text(allowEmpty: true), default: "",
                      "Audience the `aud` claim must contain; empty accepts any."),
        ConfigKeySpec("auth.jwt.username-claim", .choice(["username", "sub"]), default: "username",
                      "Claim that names the user. A `clientid` claim, when present, must equal the CONNECT client identifier (else 0x87)."),
        ConfigKeySpec("auth.jwt.leeway", .integer(0...3600), default: "30",
                      "Clock skew tolerated on exp, nbf and iat, in seconds."),
        ConfigKeySpec("auth.http.url", .text(allowEmpty: true), default: "",
                      "http:// or https:// URL of an authentication service receiving a JSON POST per CONNECT; empty disables it."),
        ConfigKeySpec("auth.http.timeout-ms", .integer(10...60_000), default: "5000",
                      "Deadline of one call to auth.http.url, in milliseconds."),
        ConfigKeySpec("auth.http.cache-ttl", .integer(0...86_400), default: "60",
                      "Seconds a decision of the service is reused for the same client id, user name and password; 0 disables the cache."),
        ConfigKeySpec("auth.http.on-error", .choice(["deny", "ignore"]), default: "deny",
                      "What a failed call (timeout, 5xx, no decision) means: `deny` refuses the client (0x87), `ignore` lets the next mechanism decide."),
        ConfigKeySpec("log.level", .choice(["trace", "debug", "info", "notice", "warning", "error", "critical"]),
                      default: "info", "Lowest level that is logged."),
        ConfigKeySpec("log.format", .choice(["text", "json"]), default: "text",
                      "`text` for humans, `json` for one JSON object per line (log shippers)."),
    ] + securityKeys

    /// Looks a key up by its dotted name.
    public static func spec(named name: String) -> ConfigKeySpec? {
        byName[name]
    }

    private static let byName: [String: ConfigKeySpec] = Dictionary(
        uniqueKeysWithValues: keys.map { ($0.name, $0) }
    )

    /// The dotted prefixes that are sections (e.g. `rpc`, `rpc.tls`), not keys.
    public static let sections: Set<String> = {
        var sections = Set<String>()
        for key in keys {
            var parts = key.name.split(separator: ".").map(String.init)
            parts.removeLast()
            while !parts.isEmpty {
                sections.insert(parts.joined(separator: "."))
                parts.removeLast()
            }
        }
        return sections
    }()
}
