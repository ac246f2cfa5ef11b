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
    /// The connection ended and the session outlives it: store this state until it expires.
    case persist(MQTTSessionState)
    /// The connection ended and the session with it: forget the client's stored state.
    case discard(clientIdentifier: String)
}

/// An inbound PUBLISH ready for the broker: topic alias resolved.
public struct MQTTInboundMessage: Hashable, Sendable {
    /// The publishing client.
    public var clientIdentifier: String
    /// The topic name (never empty).
    public var topic: String
    /// The application message.
    public var payload: ByteBuffer
    /// The QoS it was published with.
    public var qos: MQTTQoS
    /// The RETAIN flag.
    public var retain: Bool
    /// The packet identifier for QoS 1 and 2, to acknowledge after persisting.
    public var packetIdentifier: UInt16?
    /// The PUBLISH properties without Topic Alias.
    public var properties: MQTTProperties

    /// An inbound message.
    public init(
        clientIdentifier: String, topic: String, payload: ByteBuffer, qos: MQTTQoS, retain: Bool,
        packetIdentifier: UInt16?, properties: MQTTProperties
    ) {
        self.clientIdentifier = clientIdentifier
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.packetIdentifier = packetIdentifier
        self.properties = properties
    }
}

/// One subscription as the session granted it.
public struct MQTTSubscriptionRequest: Hashable, Sendable {
    /// The filter and options; ``MQTTSubscription/qos`` is the granted QoS.
    public var subscription: MQTTSubscription
    /// The v5 Subscription Identifier of the SUBSCRIBE, if any.
    public var subscriptionIdentifier: UInt32?
    /// Whether the client had no subscription to this filter before.
    public var isNew: Bool

    /// A request.
    public init(subscription: MQTTSubscription, subscriptionIdentifier: UInt32? = nil, isNew: Bool) {
        self.subscription = subscription
        self.subscriptionIdentifier = subscriptionIdentifier
        self.isNew = isNew
    }
}
