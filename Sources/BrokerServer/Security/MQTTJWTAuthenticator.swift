import Foundation
import Logging
import NIOCore
import Shared

/// Accepts a JWT passed as the CONNECT password (HS256, RS256 or ES256, keys chosen by `kid`).
///
/// A password that does not look like a compact JWS (three dot-separated parts, a JSON header)
/// is not this mechanism's business (``MQTTAuthOutcome/ignore``). A token that fails
/// verification (bad signature, unknown key, `none` or another algorithm, expired, not yet valid,
/// wrong issuer or audience) is refused with 0x86 and a log line naming the reason; a token whose
/// `clientid` claim differs from the CONNECT client identifier is refused with 0x87. The token's
/// `acl` claim travels in the connection's ``MQTTAuthContext``.
public struct MQTTJWTAuthenticator: MQTTAuthenticator {
    /// Which claim names the user.
    public enum UsernameClaim: String, Sendable, CaseIterable {
        /// Tributary's `username` claim.
        case username
        /// The registered `sub` claim.
        case subject = "sub"
    }

    let verifier: JWTVerifier
    let usernameClaim: UsernameClaim
    let clock: @Sendable () -> Date
    let logger: Logger

    /// An authenticator verifying with `verifier`; `clock` gives the time tokens are checked at.
    public init(
        verifier: JWTVerifier, usernameClaim: UsernameClaim = .username, logger: Logger,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.verifier = verifier
        self.usernameClaim = usernameClaim
        self.logger = logger
        self.clock = clock
    }

    /// Whether `password` has the shape of a compact JWS (`eyJ…` header, three parts).
    static func looksLikeToken(_ password: String) -> Bool {
        password.hasPrefix("eyJ") && password.utf8.lazy.filter { $0 == UInt8(ascii: ".") }.count == 2
    }

    public func authenticate(_ credentials: MQTTConnectCredentials, on eventLoop: any EventLoop) -> EventLoopFuture<MQTTAuthOutcome> {
        eventLoop.makeSucceededFuture(decide(credentials))
    }

    /// The decision, computed synchronously (signature checks are microseconds).
    func decide(_ credentials: MQTTConnectCredentials) -> MQTTAuthOutcome {
        guard let token = credentials.passwordText, Self.looksLikeToken(token) else { return .ignore }
        let claims: JWTClaims
        do {
            claims = try verifier.verify(token, now: clock())
        } catch {
            refused("\(error)", credentials)
            return .deny(.badUserNameOrPassword)
        }
        let name: String? = usernameClaim == .username ? claims.username : claims.subject
        guard let userName = name, !userName.isEmpty else {
            refused("no '\(usernameClaim.rawValue)' claim", credentials)
            return .deny(.badUserNameOrPassword)
        }
        if let clientID = claims.clientID, clientID != credentials.clientIdentifier {
            refused("token is for client id '\(clientID)'", credentials)
            return .deny(.notAuthorized)
        }
        return .allow(MQTTAuthContext(
            userName: userName, tenant: claims.tenant ?? "default", jwtACL: claims.acl,
            certificateCommonName: credentials.certificateCommonName, mechanism: .jwt))
    }

    private func refused(_ reason: String, _ credentials: MQTTConnectCredentials) {
        logger.notice("mqtt authentication failed: JWT refused", metadata: [
            "reason": "\(reason)", "user": "\(credentials.userName ?? "")", "client": "\(credentials.clientIdentifier)"])
    }
}
