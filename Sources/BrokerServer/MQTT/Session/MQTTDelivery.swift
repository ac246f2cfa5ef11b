import NIOCore

/// A message the broker routes to one subscriber, with what its matching subscriptions asked for.
public struct MQTTDelivery: Hashable, Sendable {
    /// The topic name.
    public var topic: String
    /// The application message.
    public var payload: ByteBuffer
    /// The QoS it was published with.
    public var qos: MQTTQoS
    /// The RETAIN flag it was published with.
    public var retain: Bool
    /// Its PUBLISH properties (payload format, expiry, content type, response topic, correlation
    /// data, user properties); topic alias and subscription identifiers are ignored.
    public var properties: MQTTProperties
    /// The highest QoS of the matching subscriptions.
    public var subscriptionQoS: MQTTQoS
    /// The identifiers of the matching subscriptions.
    public var subscriptionIdentifiers: [UInt32]
    /// Whether a matching subscription asked for Retain As Published.
    public var retainAsPublished: Bool
    /// Whether the matching subscription has No Local set; with ``publisherClientIdentifier``
    /// equal to this session's client the message is not delivered.
    public var noLocal: Bool
    /// The client that published the message, if any.
    public var publisherClientIdentifier: String?
    /// A retained message sent because of a subscription: RETAIN is always set.
    public var isRetainedDelivery: Bool
    /// When the broker received the message (driver's monotonic nanoseconds), for message expiry.
    public var receivedAt: UInt64
    /// Where the message is stored in the journal, if it comes from there: the broker computes a
    /// persistent session's replay cursors from the positions of messages still queued.
    public var journalPosition: MQTTJournalPosition?

    /// A delivery.
    public init(
        topic: String, payload: ByteBuffer, qos: MQTTQoS = .atMostOnce, retain: Bool = false,
        properties: MQTTProperties = MQTTProperties(), subscriptionQoS: MQTTQoS = .exactlyOnce,
        subscriptionIdentifiers: [UInt32] = [], retainAsPublished: Bool = false, noLocal: Bool = false,
        publisherClientIdentifier: String? = nil, isRetainedDelivery: Bool = false, receivedAt: UInt64 = 0,
        journalPosition: MQTTJournalPosition? = nil
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
        self.subscriptionQoS = subscriptionQoS
        self.subscriptionIdentifiers = subscriptionIdentifiers
        self.retainAsPublished = retainAsPublished
        self.noLocal = noLocal
        self.publisherClientIdentifier = publisherClientIdentifier
        self.isRetainedDelivery = isRetainedDelivery
        self.receivedAt = receivedAt
        self.journalPosition = journalPosition
    }
}
