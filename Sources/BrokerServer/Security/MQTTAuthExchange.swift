import NIOCore

/// One answer of an enhanced authentication exchange.
public enum MQTTAuthStep: Sendable, Equatable {
    /// Send AUTH 0x18 Continue authentication with this data and wait for the client's next AUTH.
    case `continue`(ByteBuffer?)
    /// Authenticated: the CONNACK (or, when re-authenticating, AUTH 0x00) carries this data.
    case success(MQTTAuthContext, ByteBuffer?)
    /// Refused with this reason code; the text says why (for the log, never sent).
    case failure(MQTTReasonCode, String)
}

/// The server side of one MQTT 5 enhanced authentication exchange (MQTT 5.0 §4.12): an IO-free
/// state machine fed the Authentication Data of the CONNECT (or of the client's AUTH 0x19), then
/// of each AUTH 0x18, answering with the next step. A new exchange is made for every
/// authentication and every re-authentication.
public protocol MQTTAuthExchange: Sendable {
    /// The Authentication Method.
    var method: String { get }
    /// Feeds the client's next Authentication Data.
    mutating func step(_ data: ByteBuffer?) -> MQTTAuthStep
}
