import NIOCore

/// What happens to a session: the input of ``MQTTSession/handle(_:now:)``.
public enum MQTTSessionEvent: Hashable, Sendable {
    /// The client sent a packet (decoded with the connection's version).
    case packetReceived(MQTTPacket)
    /// The decoder rejected the client's bytes; the connection is closed with the matching code.
    case decodeFailed(MQTTDecodeError)
    /// A periodic check of keep alive and message expiry.
    case keepAliveTick
    /// The broker routes a message to this client.
    case deliver(MQTTDelivery)
    /// The broker's journal stored the inbound QoS 1/2 PUBLISH with this packet identifier;
    /// a failure code (0x80 and above) rejects it (v5 only; a v3 connection is closed).
    case publishPersisted(packetIdentifier: UInt16, reasonCode: MQTTReasonCode)
    /// Another connection took over this client's session.
    case sessionTakenOver
    /// The network connection closed (without DISCONNECT, unless one was received).
    case connectionClosed
    /// The CONNECT, after the driver completed its enhanced authentication (MQTT 5.0 §4.12)
    /// with the CONNECT's Authentication Method: the CONNACK carries the method and this
    /// Authentication Data, and the client may re-authenticate with AUTH 0x19.
    case enhancedAuthenticationCompleted(MQTTConnect, authenticationData: ByteBuffer?)
    /// The driver's answer to an ``MQTTSessionAction/authenticate(_:)`` during re-authentication.
    case reauthenticationStep(MQTTReauthenticationStep)
    /// The server is shutting down: a v5 client gets DISCONNECT 0x8B; the will is not published
    /// and the session is persisted (or discarded) as on any other end.
    case serverShutdown
}
