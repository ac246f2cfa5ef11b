extension TributaryConfig {
    /// Authorization, bans, limits, audit and admin authentication settings (`auth.*`,
    /// `mqtt.flapping.*`, `mqtt.limits.*`, `audit.*`, `admin.auth.*`).
    public struct SecuritySettings: Sendable, Equatable {
        /// `auth.acl.no-match`: `nil` for `auto`, else whether unmatched requests are allowed.
        public var aclNoMatchAllows: Bool?
        /// `auth.acl.v3-publish-denied` is `disconnect`.
        public var v3PublishDeniedDisconnects: Bool
        /// `auth.acl.cache-size`.
        public var aclCacheSize: Int
        /// `mqtt.flapping.enabled`.
        public var flappingEnabled: Bool
        /// `mqtt.flapping.max-connects`.
        public var flappingMaxConnects: Int
        /// `mqtt.flapping.window`, in seconds.
        public var flappingWindow: Int
        /// `mqtt.flapping.ban-seconds`.
        public var flappingBanSeconds: Int
        /// `mqtt.limits.connect-rate` (0: unlimited).
        public var connectRate: Int
        /// `mqtt.limits.connect-burst` (0: the rate).
        public var connectBurst: Int
        /// `mqtt.limits.message-rate` (0: unlimited).
        public var messageRate: Int
        /// `mqtt.limits.message-burst` (0: the rate).
        public var messageBurst: Int
        /// `mqtt.limits.bandwidth`, bytes per second (0: unlimited).
        public var bandwidth: Int
        /// `mqtt.limits.max-subscriptions` (0: unlimited).
        public var maxSubscriptions: Int
        /// `audit.enabled`.
        public var auditEnabled: Bool
        /// `admin.auth.tokens-file`, or `nil` when empty.
        public var adminTokensFile: String?

        init(resolved value: (String) -> String) {
            func int(_ key: String) -> Int { Int(value(key).trimmingSpaces) ?? 0 }
            func bool(_ key: String) -> Bool { value(key).trimmingSpaces == "true" }
            switch value("auth.acl.no-match").trimmingSpaces {
            case "allow": aclNoMatchAllows = true
            case "deny": aclNoMatchAllows = false
            default: aclNoMatchAllows = nil
            }
            v3PublishDeniedDisconnects = value("auth.acl.v3-publish-denied").trimmingSpaces != "ignore"
            aclCacheSize = int("auth.acl.cache-size")
            flappingEnabled = bool("mqtt.flapping.enabled")
            flappingMaxConnects = int("mqtt.flapping.max-connects")
            flappingWindow = int("mqtt.flapping.window")
            flappingBanSeconds = int("mqtt.flapping.ban-seconds")
            connectRate = int("mqtt.limits.connect-rate")
            connectBurst = int("mqtt.limits.connect-burst")
            messageRate = int("mqtt.limits.message-rate")
            messageBurst = int("mqtt.limits.message-burst")
            bandwidth = int("mqtt.limits.bandwidth")
            maxSubscriptions = int("mqtt.limits.max-subscriptions")
            auditEnabled = bool("audit.enabled")
            let tokens = value("admin.auth.tokens-file").trimmingSpaces
            adminTokensFile = tokens.isEmpty ? nil : tokens
        }
    }
}
