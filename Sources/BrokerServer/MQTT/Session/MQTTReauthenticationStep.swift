import NIOCore

/// The authenticator's answer to one AUTH of a re-authentication, fed to the session.
public enum MQTTReauthenticationStep: Hashable, Sendable {
    /// Send AUTH 0x18 Continue authentication with this data.
    case `continue`(ByteBuffer?)
    /// Re-authenticated: send AUTH 0x00 Success with this data.
    case success(ByteBuffer?)
    /// Refused: DISCONNECT with this reason code (0x87 Not authorized when the code is not a
    /// DISCONNECT code) and end the session.
    case failure(MQTTReasonCode)
}
