import NIOSSL

/// The TLS material of an MQTT listener (`mqtts://` on the TCP listener, `wss://` on the
/// WebSocket listener): PEM certificate chain and private key, and optionally a client CA with a
/// verification mode for mutual TLS.
///
/// It maps onto the configuration keys `mqtt.tls.cert-file`, `mqtt.tls.key-file` (and, for
/// mutual TLS later, a CA file and verify mode).
public struct MQTTTLSConfiguration: Hashable, Sendable {
    /// Whether and how client certificates are checked.
    public enum ClientVerification: String, Hashable, Sendable, CaseIterable {
        /// No client certificate is requested.
        case none
        /// A client certificate is verified against the client CA if the client presents one.
        case optional
        /// Every client must present a certificate the client CA verifies.
        case required
    }

    /// PEM file with the server certificate, leaf first, then intermediates.
    public var certificateFile: String
    /// PEM file with the private key of the leaf certificate.
    public var privateKeyFile: String
    /// PEM file with the CA certificates that verify client certificates.
    public var clientCAFile: String?
    /// Whether and how client certificates are checked; needs ``clientCAFile`` unless `.none`.
    public var clientVerification: ClientVerification

    /// TLS material without client verification unless a CA and mode are given.
    public init(certificateFile: String, privateKeyFile: String, clientCAFile: String? = nil, clientVerification: ClientVerification = .none) {
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.clientCAFile = clientCAFile
        self.clientVerification = clientVerification
    }

    /// Builds the server context, refusing material that could never complete a handshake: an
    /// unreadable or empty certificate file, an unreadable key, a key that does not belong to the
    /// leaf certificate, a leaf certificate outside its validity period at `now` (seconds since
    /// the Unix epoch), or client verification without a CA.
    public func makeServerContext(now: Int) throws(MQTTTLSError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw .unreadableCertificate(file: certificateFile, problem: "\(error)")
        }
        guard let leaf = chain.first else { throw .unreadableCertificate(file: certificateFile, problem: "no PEM certificate in the file") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: privateKeyFile, format: .pem)
        } catch {
            throw .unreadablePrivateKey(file: privateKeyFile, problem: "\(error)")
        }
        if now < Int(leaf.notValidBefore) {
            throw .certificateNotYetValid(file: certificateFile, notBefore: Int(leaf.notValidBefore))
        }
        if now > Int(leaf.notValidAfter) {
            throw .certificateExpired(file: certificateFile, notAfter: Int(leaf.notValidAfter))
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv12
        switch clientVerification {
        case .none:
            configuration.certificateVerification = .none
        case .optional, .required:
            guard let clientCAFile else { throw .clientCAMissing(clientVerification) }
            configuration.trustRoots = .file(clientCAFile)
            configuration.certificateVerification = clientVerification == .required ? .noHostnameVerification : .optionalVerification
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch NIOSSLError.failedToLoadPrivateKey {
            // The key itself parsed above, so BoringSSL refused it for not matching the leaf.
            throw .keyDoesNotMatchCertificate(certificateFile: certificateFile, privateKeyFile: privateKeyFile)
        } catch {
            throw .invalidMaterial(problem: "\(error)")
        }
    }
}
