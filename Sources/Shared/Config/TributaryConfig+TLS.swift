import NIOSSL

extension TributaryConfig.TLSFiles {
    /// The TLS context for a node's RPC listener, or nil when TLS is off. With a CA file the
    /// listener requires and verifies client certificates (mutual TLS between nodes).
    public func makeServerContext() throws(ConfigurationError) -> NIOSSLContext? {
        guard let certificateFile, let privateKeyFile else { return nil }
        do {
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: privateKeyFile, format: .pem))
            )
            if let caFile {
                configuration.trustRoots = .file(caFile)
                configuration.certificateVerification = .noHostnameVerification
            }
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw .badValue(key: "rpc.tls.cert-file", source: "TLS files", problem: "cannot load the certificate, key or CA: \(error)")
        }
    }

    /// The TLS context for RPC clients (ctl, other nodes), or nil when TLS is off. It verifies
    /// the server against the CA file (or the system roots) and presents this node's certificate.
    public func makeClientContext() throws(ConfigurationError) -> NIOSSLContext? {
        guard let certificateFile, let privateKeyFile else { return nil }
        do {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: privateKeyFile, format: .pem))
            if let caFile { configuration.trustRoots = .file(caFile) }
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw .badValue(key: "rpc.tls.cert-file", source: "TLS files", problem: "cannot load the certificate, key or CA: \(error)")
        }
    }
}
