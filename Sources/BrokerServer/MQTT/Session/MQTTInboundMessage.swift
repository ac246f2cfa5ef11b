import NIOCore

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
