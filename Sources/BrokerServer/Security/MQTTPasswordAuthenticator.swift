import Logging
import MetaService
import NIOCore
import NIOPosix
import Shared

/// Checks the CONNECT user name and password against the user records in meta (through an
/// ``MQTTUserDirectory``).
///
/// The PBKDF2 hash runs on a thread pool, never on the event loop, and compares in constant
/// time. A user name the directory does not know costs the same: a dummy hash with the default
/// iteration count is computed before answering ``MQTTAuthOutcome/ignore`` (the next mechanism of
/// the chain decides, and the chain refuses with 0x86 when none does). A known user with a
/// wrong or missing password is refused with 0x86 (3.1.1: return code 4).
public struct MQTTPasswordAuthenticator: MQTTAuthenticator {
    let directory: MQTTUserDirectory
    let threadPool: NIOThreadPool
    let tenant: String
    let logger: Logger
    /// Verified against for unknown users, so they take as long as known ones.
    let dummy: PasswordHash

    /// An authenticator over `directory`, hashing on `threadPool`.
    public init(
        directory: MQTTUserDirectory, threadPool: NIOThreadPool = .singleton, tenant: String = UserRecord.defaultTenant,
        logger: Logger
    ) {
        self.directory = directory
        self.threadPool = threadPool
        self.tenant = tenant
        self.logger = logger
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<PasswordHasher.saltByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let key = (0..<PasswordHasher.derivedKeyByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        // Valid by construction: default iterations, 16-byte salt, 32-byte key.
        self.dummy = (try? PasswordHash(iterations: PasswordHasher.defaultIterations, salt: salt, derivedKey: key))!
    }

    public func authenticate(_ credentials: MQTTConnectCredentials, on eventLoop: any EventLoop) -> EventLoopFuture<MQTTAuthOutcome> {
        guard let userName = credentials.userName else { return eventLoop.makeSucceededFuture(.ignore) }
        let user = directory.user(tenant: tenant, username: userName)
        // Invalid UTF-8 or no password: verify something anyway, so the answer takes as long.
        let password = credentials.passwordText
        let candidate = password ?? ""
        let stored = user?.passwordHash ?? dummy
        let logger = self.logger
        let clientIdentifier = credentials.clientIdentifier
        return threadPool.runIfActive(eventLoop: eventLoop) {
            (try? PasswordHasher.verify(candidate, against: stored)) ?? false
        }.map { matches -> MQTTAuthOutcome in
            guard let user else { return .ignore }
            guard matches, password != nil else {
                logger.notice("mqtt authentication failed: wrong password", metadata: [
                    "user": "\(userName)", "client": "\(clientIdentifier)"])
                return .deny(.badUserNameOrPassword)
            }
            return .allow(MQTTAuthContext(
                userName: user.username, tenant: user.tenant, isSuperuser: user.isSuperuser,
                certificateCommonName: credentials.certificateCommonName, mechanism: .password))
        }
    }

    public func makeExchange(method: String) -> (any MQTTAuthExchange)? {
        guard method == SCRAMServer.mechanism else { return nil }
        return MQTTSCRAMExchange(directory: directory, tenant: tenant)
    }
}
