import MetaService
import NIOCore
import Shared

/// SCRAM-SHA-256 over MQTT 5 AUTH packets: CONNECT carries client-first, AUTH 0x18 carries
/// server-first, the client's AUTH 0x18 carries client-final, and the CONNACK (or AUTH 0x00 when
/// re-authenticating) carries server-final. Credentials come from the user directory's stored
/// SCRAM keys, so no password is needed; an unknown user fails at the proof exactly like a
/// wrong password (0x86).
public struct MQTTSCRAMExchange: MQTTAuthExchange {
    public var method: String { SCRAMServer.mechanism }
    var server: SCRAMServer
    var user: UserRecord?
    var round = 0
    let lookup: @Sendable (String) -> UserRecord?

    /// An exchange whose user names are looked up with `lookup`.
    public init(lookup: @escaping @Sendable (String) -> UserRecord?, server: SCRAMServer = SCRAMServer()) {
        self.lookup = lookup
        self.server = server
    }

    /// An exchange over the users of `tenant` in `directory`.
    public init(directory: MQTTUserDirectory, tenant: String) {
        self.init(lookup: { directory.user(tenant: tenant, username: $0) })
    }

    public mutating func step(_ data: ByteBuffer?) -> MQTTAuthStep {
        round += 1
        guard let data, data.readableBytes > 0 else {
            return .failure(.badUserNameOrPassword, "SCRAM-SHA-256 step \(round) without authentication data")
        }
        let message = Array(data.readableBytesView)
        do throws(SCRAMError) {
            switch round {
            case 1:
                let username = try server.receiveClientFirst(message)
                user = lookup(username)
                let serverFirst = try server.serverFirst(credentials: user?.scram)
                return .continue(ByteBuffer(bytes: serverFirst))
            case 2:
                let serverFinal = try server.receiveClientFinal(message)
                guard let user, server.authenticatedUsername == user.username else {
                    return .failure(.badUserNameOrPassword, "SCRAM-SHA-256: unknown user")
                }
                let context = MQTTAuthContext(
                    userName: user.username, tenant: user.tenant, isSuperuser: user.isSuperuser, mechanism: .scram)
                return .success(context, ByteBuffer(bytes: serverFinal))
            default:
                return .failure(.protocolError, "SCRAM-SHA-256: unexpected AUTH after the exchange ended")
            }
        } catch {
            return .failure(.badUserNameOrPassword, "SCRAM-SHA-256: \(error)")
        }
    }
}
