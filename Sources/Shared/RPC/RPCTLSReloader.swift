import NIOSSL

/// A node's RPC TLS material from its `rpc.tls.*` files, reloadable without a restart: the
/// ``server`` source goes to the node's ``RPCServer`` and the ``client`` source to its
/// inter-node ``RPCClient``s; ``reload()`` re-reads the files and, only if they all load, swaps
/// both contexts (new connections use them; established ones are kept). A file that does not
/// load leaves the old contexts in place.
public final class RPCTLSReloader: Sendable {
    /// The files read (again on every reload).
    public let files: TributaryConfig.TLSFiles
    /// The listener's context (verifies client certificates against the CA file when one is set).
    public let server: RPCTLSSource
    /// The clients' context (presents this node's certificate, verifies servers against the CA).
    public let client: RPCTLSSource

    /// Loads the files; nil when TLS is not configured. Throws when a file does not load.
    public init?(files: TributaryConfig.TLSFiles) throws(ConfigurationError) {
        guard let server = try files.makeServerContext(), let client = try files.makeClientContext() else { return nil }
        self.files = files
        self.server = RPCTLSSource(server)
        self.client = RPCTLSSource(client)
    }

    /// Re-reads the files and swaps both contexts; throws (keeping the old ones) when they do not load.
    public func reload() throws(ConfigurationError) {
        guard let server = try files.makeServerContext(), let client = try files.makeClientContext() else {
            throw .inconsistent(key: "rpc.tls.cert-file", problem: "TLS cannot be turned off by a reload")
        }
        self.server.replace(with: server)
        self.client.replace(with: client)
    }
}
