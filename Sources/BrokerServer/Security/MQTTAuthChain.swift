import Logging
import NIOCore

/// Authenticators asked in order; the first definitive answer (allow or deny) wins.
///
/// When every one ignores the CONNECT: a client without a user name is anonymous, accepted when
/// `allowAnonymous` is set and refused with 0x87 otherwise; a client with a user name nobody
/// knows is refused with 0x86 (3.1.1: return code 4). Enhanced authentication methods are
/// offered by the first authenticator that knows them; an unknown method is refused with 0x8C.
public struct MQTTAuthChain: MQTTAuthenticator {
    /// The authenticators, in the order they are asked.
    public let authenticators: [any MQTTAuthenticator]
    /// Whether clients without a user name (that no authenticator accepted) may connect.
    public let allowAnonymous: Bool
    let logger: Logger

    /// A chain.
    public init(_ authenticators: [any MQTTAuthenticator], allowAnonymous: Bool, logger: Logger) {
        self.authenticators = authenticators
        self.allowAnonymous = allowAnonymous
        self.logger = logger
    }

    public func authenticate(_ credentials: MQTTConnectCredentials, on eventLoop: any EventLoop) -> EventLoopFuture<MQTTAuthOutcome> {
        ask(0, credentials, on: eventLoop)
    }

    private func ask(_ index: Int, _ credentials: MQTTConnectCredentials, on eventLoop: any EventLoop) -> EventLoopFuture<MQTTAuthOutcome> {
        guard index < authenticators.count else {
            return eventLoop.makeSucceededFuture(fallback(credentials))
        }
        return authenticators[index].authenticate(credentials, on: eventLoop).flatMap { outcome in
            if case .ignore = outcome { return self.ask(index + 1, credentials, on: eventLoop) }
            return eventLoop.makeSucceededFuture(outcome)
        }
    }

    private func fallback(_ credentials: MQTTConnectCredentials) -> MQTTAuthOutcome {
        if let userName = credentials.userName {
            logger.notice("mqtt authentication failed: unknown user", metadata: [
                "user": "\(userName)", "client": "\(credentials.clientIdentifier)"])
            return .deny(.badUserNameOrPassword)
        }
        guard allowAnonymous else {
            logger.notice("mqtt authentication failed: anonymous clients are not allowed", metadata: [
                "client": "\(credentials.clientIdentifier)"])
            return .deny(.notAuthorized)
        }
        return .allow(MQTTAuthContext(
            userName: nil, certificateCommonName: credentials.certificateCommonName, mechanism: .anonymous))
    }

    public func makeExchange(method: String) -> (any MQTTAuthExchange)? {
        for authenticator in authenticators {
            if let exchange = authenticator.makeExchange(method: method) { return exchange }
        }
        return nil
    }
}
