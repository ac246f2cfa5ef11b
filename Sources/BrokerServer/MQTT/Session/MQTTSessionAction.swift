import NIOCore

/// What the driver and the broker must do: the output of ``MQTTSession/handle(_:now:)``, in order.
public enum MQTTSessionAction: Hashable, Sendable {
    /// Write these packets, in order, and flush once.
    case send([MQTTPacket])
    /// Close the connection, after writing the DISCONNECT if there is one (v5 only).
    case close(MQTTDisconnect?)
    /// Persist and route an inbound message; QoS 1/2 are acknowledged after
    /// ``MQTTSessionEvent/publishPersisted(packetIdentifier:reasonCode:)``.
    case publish(MQTTInboundMessage)
    /// Add (or replace) these subscriptions of the client in the subscription index.
    case subscribe(clientIdentifier: String, [MQTTSubscriptionRequest])
    /// Remove these subscriptions of the client from the subscription index.
    case unsubscribe(clientIdentifier: String, topicFilters: [String])
    /// Deliver the retained messages matching this new subscription (Retain Handling 0, or 1
    /// for a subscription that did not exist).
    case deliverRetained(clientIdentifier: String, MQTTSubscriptionRequest)
    /// Publish the will after `delay` seconds unless the session resumes first.
    case publishWill(clientIdentifier: String, will: MQTTWill, delay: UInt32)
    /// Re-authentication (MQTT 5.0 §4.12.1): feed this AUTH (0x19 starts a new exchange, 0x18
    /// continues it) to the authenticator and answer with ``MQTTSessionEvent/reauthenticationStep(_:)``.
    case authenticate(MQTTAuth)
    /// The connection ended and the session outlives it: store this state until it expires.
    case persist(MQTTSessionState)
    /// The connection ended and the session with it: forget the client's stored state.
    case discard(clientIdentifier: String)
}
