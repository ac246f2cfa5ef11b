/// Why TLS material for an MQTT listener was refused.
public enum MQTTTLSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The certificate file cannot be read or holds no PEM certificate.
    case unreadableCertificate(file: String, problem: String)
    /// The private key file cannot be read or parsed.
    case unreadablePrivateKey(file: String, problem: String)
    /// The private key does not belong to the leaf certificate.
    case keyDoesNotMatchCertificate(certificateFile: String, privateKeyFile: String)
    /// The leaf certificate's validity ended (seconds since the Unix epoch).
    case certificateExpired(file: String, notAfter: Int)
    /// The leaf certificate's validity has not started (seconds since the Unix epoch).
    case certificateNotYetValid(file: String, notBefore: Int)
    /// Client verification was asked for without a client CA file.
    case clientCAMissing(MQTTTLSConfiguration.ClientVerification)
    /// The TLS library refused the configuration.
    case invalidMaterial(problem: String)

    public var description: String {
        switch self {
        case .unreadableCertificate(let file, let problem):
            return "cannot read the MQTT TLS certificate \(file): \(problem)"
        case .unreadablePrivateKey(let file, let problem):
            return "cannot read the MQTT TLS private key \(file): \(problem)"
        case .keyDoesNotMatchCertificate(let certificateFile, let privateKeyFile):
            return "the MQTT TLS private key \(privateKeyFile) does not belong to the certificate \(certificateFile)"
        case .certificateExpired(let file, let notAfter):
            return "the MQTT TLS certificate \(file) expired (not valid after \(notAfter) s since the epoch)"
        case .certificateNotYetValid(let file, let notBefore):
            return "the MQTT TLS certificate \(file) is not valid yet (not valid before \(notBefore) s since the epoch)"
        case .clientCAMissing(let mode):
            return "MQTT TLS client verification '\(mode.rawValue)' needs a client CA file"
        case .invalidMaterial(let problem):
            return "the MQTT TLS configuration was refused: \(problem)"
        }
    }
}
