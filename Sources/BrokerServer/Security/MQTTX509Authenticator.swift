import Logging
import NIOCore

/// Accepts a connection whose TLS handshake verified a client certificate, as the user named by
/// the certificate's common name (`auth.x509.username-from-cn`). Connections without a verified
/// certificate are not this mechanism's business (``MQTTAuthOutcome/ignore``). Certificates that
/// are missing (with `mqtt.tls.client-auth: required`), untrusted or expired never get here: the
/// handshake refuses them.
public struct MQTTX509Authenticator: MQTTAuthenticator {
    let logger: Logger

    /// An authenticator.
    public init(logger: Logger) {
        self.logger = logger
    }

    public func authenticate(_ credentials: MQTTConnectCredentials, on eventLoop: any EventLoop) -> EventLoopFuture<MQTTAuthOutcome> {
        guard let commonName = credentials.certificateCommonName, !commonName.isEmpty else {
            return eventLoop.makeSucceededFuture(.ignore)
        }
        if let userName = credentials.userName, userName != commonName {
            logger.notice("mqtt authentication failed: user name differs from the certificate's common name", metadata: [
                "user": "\(userName)", "cn": "\(commonName)", "client": "\(credentials.clientIdentifier)"])
            return eventLoop.makeSucceededFuture(.deny(.notAuthorized))
        }
        return eventLoop.makeSucceededFuture(.allow(MQTTAuthContext(
            userName: commonName, certificateCommonName: commonName, mechanism: .x509)))
    }
}
