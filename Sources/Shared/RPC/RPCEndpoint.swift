/// A `host:port` address an ``RPCClient`` connects to.
public struct RPCEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// Host name or IP address.
    public var host: String
    /// TCP port.
    public var port: Int

    /// Creates an endpoint.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (IPv6 as `[::1]:port`); nil if malformed.
    public init?(_ string: String) {
        guard let colon = string.lastIndex(of: ":"), let port = Int(string[string.index(after: colon)...]),
              (0...65535).contains(port)
        else { return nil }
        var host = String(string[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    public var description: String {
        self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
    }
}
