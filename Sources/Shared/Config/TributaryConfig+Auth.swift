extension TributaryConfig {
    /// MQTT authentication settings (`auth.*`).
    public struct AuthSettings: Sendable, Equatable {
        /// The mechanisms of `auth.chain`.
        public enum Mechanism: String, Sendable, Equatable, CaseIterable {
            /// A verified TLS client certificate (its CN is the user name).
            case x509
            /// User name and password against the user records in meta.
            case password
            /// A JWT as the CONNECT password.
            case jwt
            /// An HTTP authentication service.
            case http
        }

        /// `auth.chain`, in order.
        public var chain: [Mechanism]
        /// `auth.x509.username-from-cn`.
        public var x509UsernameFromCN: Bool
        /// `auth.jwt.enabled`.
        public var jwtEnabled: Bool
        /// `auth.jwt.hs256-secret-files`.
        public var jwtSecretFiles: String
        /// `auth.jwt.public-key-files`.
        public var jwtPublicKeyFiles: String
        /// `auth.jwt.issuer`, `nil` when empty.
        public var jwtIssuer: String?
        /// `auth.jwt.audience`, `nil` when empty.
        public var jwtAudience: String?
        /// `auth.jwt.username-claim`.
        public var jwtUsernameClaim: String
        /// `auth.jwt.leeway`, in seconds.
        public var jwtLeeway: Int
        /// `auth.http.url`, `nil` when empty.
        public var httpURL: String?
        /// `auth.http.timeout-ms`.
        public var httpTimeoutMilliseconds: Int
        /// `auth.http.cache-ttl`, in seconds.
        public var httpCacheTTL: Int
        /// `auth.http.on-error`: `deny` or `ignore`.
        public var httpOnError: String

        /// The mechanisms that take part: listed in the chain and configured.
        public var activeChain: [Mechanism] {
            chain.filter { mechanism in
                switch mechanism {
                case .x509: x509UsernameFromCN
                case .password: true
                case .jwt: jwtEnabled
                case .http: httpURL != nil
                }
            }
        }

        init(resolved value: (String) -> String) throws(ConfigurationError) {
            func text(_ key: String) -> String { value(key).trimmingSpaces }
            func optional(_ key: String) -> String? { text(key).isEmpty ? nil : text(key) }
            var chain: [Mechanism] = []
            for part in text("auth.chain").split(separator: ",") {
                let name = String(part).trimmingSpaces
                guard !name.isEmpty else { continue }
                guard let mechanism = Mechanism(rawValue: name) else {
                    throw .badValue(key: "auth.chain", source: "configuration",
                                    problem: "unknown mechanism '\(name)' (expected x509, password, jwt, http)")
                }
                guard !chain.contains(mechanism) else {
                    throw .badValue(key: "auth.chain", source: "configuration", problem: "'\(name)' is listed twice")
                }
                chain.append(mechanism)
            }
            self.chain = chain
            self.x509UsernameFromCN = text("auth.x509.username-from-cn") == "true"
            self.jwtEnabled = text("auth.jwt.enabled") == "true"
            self.jwtSecretFiles = text("auth.jwt.hs256-secret-files")
            self.jwtPublicKeyFiles = text("auth.jwt.public-key-files")
            self.jwtIssuer = optional("auth.jwt.issuer")
            self.jwtAudience = optional("auth.jwt.audience")
            self.jwtUsernameClaim = text("auth.jwt.username-claim")
            self.jwtLeeway = Int(text("auth.jwt.leeway")) ?? 30
            self.httpURL = optional("auth.http.url")
            self.httpTimeoutMilliseconds = Int(text("auth.http.timeout-ms")) ?? 5000
            self.httpCacheTTL = Int(text("auth.http.cache-ttl")) ?? 60
            self.httpOnError = text("auth.http.on-error")
            if jwtEnabled && jwtSecretFiles.isEmpty && jwtPublicKeyFiles.isEmpty {
                throw .inconsistent(key: "auth.jwt.enabled", problem: "needs auth.jwt.hs256-secret-files or auth.jwt.public-key-files")
            }
            if let httpURL, !(httpURL.hasPrefix("http://") || httpURL.hasPrefix("https://")) {
                throw .badValue(key: "auth.http.url", source: "configuration", problem: "expected an http:// or https:// URL, got '\(httpURL)'")
            }
        }
    }
}
