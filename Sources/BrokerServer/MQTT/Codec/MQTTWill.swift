import NIOCore

/// The will message of a CONNECT.
public struct MQTTWill: Hashable, Sendable {
    /// A topic name (no wildcards).
    public var topic: String
    /// The message; a slice of the received packet when decoded.
    public var payload: ByteBuffer
    /// The QoS the will is published with.
    public var qos: MQTTQoS
    /// Whether the will is published retained.
    public var retain: Bool
    /// Will properties (5.0 only).
    public var properties: MQTTProperties

    /// A will message.
    public init(
        topic: String,
        payload: ByteBuffer,
        qos: MQTTQoS = .atMostOnce,
        retain: Bool = false,
        properties: MQTTProperties = MQTTProperties()
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
    }
}
