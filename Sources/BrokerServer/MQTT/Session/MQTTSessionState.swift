/// What survives a connection: enough for a later connection (to this or another broker) to
/// resume the session exactly. Encoded with ``encode(into:)`` / ``init(decoding:)``.
///
/// Messages queued behind the in-flight window are not part of it; the broker re-reads them from
/// the journal.
public struct MQTTSessionState: Hashable, Sendable {
    /// A stored subscription.
    public struct Subscription: Hashable, Sendable {
        /// Filter and granted options.
        public var subscription: MQTTSubscription
        /// Its v5 Subscription Identifier, if any.
        public var subscriptionIdentifier: UInt32?

        /// A stored subscription.
        public init(subscription: MQTTSubscription, subscriptionIdentifier: UInt32? = nil) {
            self.subscription = subscription
            self.subscriptionIdentifier = subscriptionIdentifier
        }
    }

    /// Where an outbound QoS 1/2 message is in its acknowledgement flow.
    public enum OutboundPhase: UInt8, Hashable, Sendable {
        /// QoS 1 PUBLISH sent, PUBACK outstanding.
        case awaitingPubAck = 1
        /// QoS 2 PUBLISH sent, PUBREC outstanding.
        case awaitingPubRec = 2
        /// PUBREL sent, PUBCOMP outstanding.
        case awaitingPubComp = 3
    }

    /// An unacknowledged outbound message.
    public struct InFlight: Hashable, Sendable {
        /// The PUBLISH as first sent, with its full topic and no topic alias.
        public var publish: MQTTPublish
        /// The acknowledgement flow's position.
        public var phase: OutboundPhase
        /// Send order, for retransmission in the original order.
        public var sequence: UInt64

        /// An in-flight message.
        public init(publish: MQTTPublish, phase: OutboundPhase, sequence: UInt64) {
            self.publish = publish
            self.phase = phase
            self.sequence = sequence
        }
    }

    /// The client the session belongs to.
    public var clientIdentifier: String
    /// Subscriptions by full topic filter.
    public var subscriptions: [String: Subscription]
    /// Outbound QoS 1/2 messages by packet identifier.
    public var inFlight: [UInt16: InFlight]
    /// Inbound QoS 2 packet identifiers whose PUBREC was sent and PUBREL not yet received.
    public var pendingInboundQoS2: Set<UInt16>
    /// The next outbound packet identifier to try (1...65535).
    public var nextPacketIdentifier: UInt16
    /// The next in-flight sequence number.
    public var nextSequence: UInt64
    /// Seconds the session outlives its connection (`UInt32.max`: never expires).
    public var sessionExpiryInterval: UInt32

    /// A fresh session.
    public init(
        clientIdentifier: String,
        subscriptions: [String: Subscription] = [:],
        inFlight: [UInt16: InFlight] = [:],
        pendingInboundQoS2: Set<UInt16> = [],
        nextPacketIdentifier: UInt16 = 1,
        nextSequence: UInt64 = 0,
        sessionExpiryInterval: UInt32 = 0
    ) {
        self.clientIdentifier = clientIdentifier
        self.subscriptions = subscriptions
        self.inFlight = inFlight
        self.pendingInboundQoS2 = pendingInboundQoS2
        self.nextPacketIdentifier = nextPacketIdentifier == 0 ? 1 : nextPacketIdentifier
        self.nextSequence = nextSequence
        self.sessionExpiryInterval = sessionExpiryInterval
    }
}
