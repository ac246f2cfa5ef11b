import NIOCore

/// Where and how ``MQTTHTTPAuthenticator`` asks (`auth.http.*`).
public struct MQTTHTTPAuthSettings: Sendable {
    /// What a failed call (timeout, connection refused, a status other than 200, a body that is
    /// not a decision) means.
    public enum OnError: String, Sendable, CaseIterable {
        /// Refuse the client (0x87 Not authorized).
        case deny
        /// No opinion: the next mechanism of the chain decides.
        case ignore
    }

    /// `http` or `https`.
    public var scheme: String
    /// The service's host.
    public var host: String
    /// The service's port.
    public var port: Int
    /// The request path (with query, if any).
    public var path: String
    /// The whole call's deadline (connect, request, response).
    public var timeout: TimeAmount
    /// How long a decision of the service is reused for the same client id, user name and
    /// password; zero disables the cache.
    public var cacheTTL: TimeAmount
    /// What a failed call means.
    public var onError: OnError
    /// Most decisions cached at once (the oldest go first).
    public var maximumCachedDecisions: Int

    /// Settings from an `http://` or `https://` URL; `nil` for anything else.
    public init?(url: String, timeout: TimeAmount, cacheTTL: TimeAmount, onError: OnError, maximumCachedDecisions: Int = 10_000) {
        let scheme: String
        let rest: Substring
        if url.hasPrefix("http://") {
            scheme = "http"
            rest = url.dropFirst("http://".count)
        } else if url.hasPrefix("https://") {
            scheme = "https"
            rest = url.dropFirst("https://".count)
        } else {
            return nil
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        var path = String(rest.dropFirst(authority.count))
        if path.isEmpty { path = "/" }
        if path.hasPrefix("?") { path = "/" + path }
        var host = String(authority)
        var port = scheme == "https" ? 443 : 80
        if host.hasPrefix("[") {
            // [IPv6]:port
            guard let close = host.firstIndex(of: "]") else { return nil }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let parsed = Int(after.dropFirst()), (1...65535).contains(parsed) else { return nil }
                port = parsed
            } else if !after.isEmpty {
                return nil
            }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            guard let parsed = Int(host[host.index(after: colon)...]), (1...65535).contains(parsed) else { return nil }
            port = parsed
            host = String(host[..<colon])
        }
        guard !host.isEmpty, !host.contains("@") else { return nil }
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.timeout = timeout
        self.cacheTTL = cacheTTL
        self.onError = onError
        self.maximumCachedDecisions = maximumCachedDecisions
    }
}
