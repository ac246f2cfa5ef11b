import Logging
import NIOCore
import NIOSSL

extension MQTTConnectionHandler {
    /// The common name of the client certificate the TLS handshake verified, if this connection
    /// is TLS and the listener asked for one (`mqtt.tls.client-auth`): a listener that does not
    /// ask gets no certificate, and one that asks refuses unverifiable ones at the handshake.
    func verifiedCertificateCommonName() -> String? {
        guard let context, let tls = try? context.channel.pipeline.syncOperations.handler(type: NIOSSLHandler.self),
              let certificate = tls.peerCertificate
        else { return nil }
        return certificate.subjectName.first { $0.type == .commonName }?.value
    }

    /// CONNECT with an Authentication Method (MQTT 5.0 §4.12): an exchange of the broker's
    /// authenticator answers the CONNECT's data; 0x8C when no authenticator offers the method.
    func beginEnhancedAuthentication(_ connect: MQTTConnect, method: String, ref: MQTTConnectionRef) {
        guard var exchange = broker.authenticator.makeExchange(method: method) else {
            broker.logger.notice("mqtt authentication failed: unsupported authentication method", metadata: [
                "method": "\(method)", "client": "\(connect.clientIdentifier)"])
            refuse(connect, reason: .badAuthenticationMethod)
            return
        }
        pendingConnect = connect
        let step = exchange.step(connect.properties.authenticationData)
        self.exchange = exchange
        answerConnectStep(step, ref: ref)
    }

    /// A packet while the CONNECT's enhanced authentication waits for the client: only AUTH
    /// 0x18 with the same method continues it; anything else is a Protocol Error (CONNACK 0x82).
    func continueAuthentication(_ packet: MQTTPacket) {
        guard let connect = pendingConnect, let ref else {
            closeChannel()
            return
        }
        guard case .auth(let auth) = packet, auth.reasonCode == .continueAuthentication, var exchange,
              auth.properties.authenticationMethod == exchange.method
        else {
            broker.logger.notice("mqtt authentication failed: protocol error during enhanced authentication", metadata: [
                "client": "\(connect.clientIdentifier)", "packet": "\(packet.type)"])
            refuse(connect, reason: .protocolError)
            return
        }
        let step = exchange.step(auth.properties.authenticationData)
        self.exchange = exchange
        answerConnectStep(step, ref: ref)
    }

    private func answerConnectStep(_ step: MQTTAuthStep, ref: MQTTConnectionRef) {
        guard let connect = pendingConnect, let method = exchange?.method else { return }
        switch step {
        case .continue(let data):
            phase = .authenticating
            var properties = MQTTProperties()
            properties.authenticationMethod = method
            properties.authenticationData = data
            write(.auth(MQTTAuth(reasonCode: .continueAuthentication, properties: properties)), version: .v5)
        case .success(var authContext, let data):
            phase = .connecting
            pendingConnect = nil
            exchange = nil
            authContext.certificateCommonName = verifiedCertificateCommonName()
            self.authContext = authContext
            userName = authContext.userName
            authenticated(connect, ref: ref, enhanced: .some(data))
        case .failure(let code, let reason):
            broker.logger.notice("mqtt authentication failed", metadata: [
                "method": "\(method)", "reason": "\(reason)", "client": "\(connect.clientIdentifier)"])
            pendingConnect = nil
            exchange = nil
            refuse(connect, reason: code)
        }
    }

    /// Re-authentication (the session asked): a new exchange on AUTH 0x19, the current one on
    /// 0x18. A different user than the connection's is refused (0x87).
    func reauthenticate(_ auth: MQTTAuth) {
        if auth.reasonCode == .reAuthenticate {
            exchange = auth.properties.authenticationMethod.flatMap { broker.authenticator.makeExchange(method: $0) }
        }
        guard var exchange else {
            handle(.reauthenticationStep(.failure(.badAuthenticationMethod)), flush: false)
            return
        }
        let step = exchange.step(auth.properties.authenticationData)
        self.exchange = exchange
        switch step {
        case .continue(let data):
            handle(.reauthenticationStep(.continue(data)), flush: false)
        case .success(var authContext, let data):
            self.exchange = nil
            guard authContext.userName == self.authContext?.userName else {
                broker.logger.notice("mqtt re-authentication refused: another user", metadata: [
                    "client": "\(clientIdentifier ?? "")", "user": "\(authContext.userName ?? "")",
                    "was": "\(self.authContext?.userName ?? "")"])
                handle(.reauthenticationStep(.failure(.notAuthorized)), flush: false)
                return
            }
            authContext.certificateCommonName = self.authContext?.certificateCommonName
            self.authContext = authContext
            handle(.reauthenticationStep(.success(data)), flush: false)
        case .failure(let code, let reason):
            self.exchange = nil
            broker.logger.notice("mqtt re-authentication failed", metadata: [
                "reason": "\(reason)", "client": "\(clientIdentifier ?? "")"])
            handle(.reauthenticationStep(.failure(code)), flush: false)
        }
    }
}
