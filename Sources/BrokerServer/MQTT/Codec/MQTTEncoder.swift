import NIOCore

/// A `MessageToByteEncoder` writing ``MQTTPacket``s for a fixed protocol version. Drivers that
/// batch writes can call ``MQTTPacket/encode(version:into:maximumPacketSize:)`` directly.
public struct MQTTEncoder: MessageToByteEncoder, Sendable {
    /// Packets to encode.
    public typealias OutboundIn = MQTTPacket

    /// The version every packet but CONNECT is encoded for.
    public let version: MQTTProtocolVersion
    /// The peer's maximum packet size, if it announced one.
    public let maximumPacketSize: Int?

    /// An encoder for `version`, refusing packets larger than `maximumPacketSize`.
    public init(version: MQTTProtocolVersion, maximumPacketSize: Int? = nil) {
        self.version = version
        self.maximumPacketSize = maximumPacketSize
    }

    /// Appends `data` to `out`; throws ``MQTTEncodeError``.
    public func encode(data: MQTTPacket, out: inout ByteBuffer) throws {
        try data.encode(version: version, into: &out, maximumPacketSize: maximumPacketSize)
    }
}
