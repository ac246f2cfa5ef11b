import NIOCore

/// PUBLISH: an application message, in either direction.
public struct MQTTPublish: Hashable, Sendable {
    /// Set on redelivery; only with QoS 1 and 2.
    public var dup: Bool
    /// The delivery guarantee.
    public var qos: MQTTQoS
    /// Whether the message is (to be) retained.
    public var retain: Bool
    /// The topic name; may be empty in 5.0 when a topic alias is given.
    public var topicName: String
    /// Non-zero for QoS 1 and 2, `nil` for QoS 0.
    public var packetIdentifier: UInt16?
    /// PUBLISH properties (5.0 only).
    public var properties: MQTTProperties
    /// The application message; a slice of the received bytes when decoded (no copy).
    public var payload: ByteBuffer

    /// Creates a PUBLISH; QoS 1 and 2 need a non-zero packet identifier.
    public init(
        dup: Bool = false,
        qos: MQTTQoS = .atMostOnce,
        retain: Bool = false,
        topicName: String,
        packetIdentifier: UInt16? = nil,
        properties: MQTTProperties = MQTTProperties(),
        payload: ByteBuffer
    ) {
        self.dup = dup
        self.qos = qos
        self.retain = retain
        self.topicName = topicName
        self.packetIdentifier = packetIdentifier
        self.properties = properties
        self.payload = payload
    }
}

extension MQTTPublish {
    init(decoding body: inout ByteBuffer, flags: UInt8, context: MQTTDecodingContext) throws(MQTTDecodeError) {
        guard let qos = MQTTQoS(rawValue: (flags >> 1) & 0x03) else { throw .invalidQoS(.publish) }
        let dup = flags & 0x08 != 0
        if dup && qos == .atMostOnce { throw .duplicateFlagWithQoS0 }
        let topicName = try body.readMQTTString("topic name", rejectDiscouraged: context.rejectDiscouragedCodePoints)
        var packetIdentifier: UInt16?
        if qos != .atMostOnce {
            let identifier: UInt16 = try body.readMQTTInteger("packet identifier")
            guard identifier != 0 else { throw .zeroPacketIdentifier(.publish) }
            packetIdentifier = identifier
        }
        var properties = MQTTProperties()
        if context.version == .v5 {
            properties = try MQTTProperties.decode(
                from: &body, context: .publish, rejectDiscouraged: context.rejectDiscouragedCodePoints)
            if context.role == .server && !properties.subscriptionIdentifiers.isEmpty {
                throw .subscriptionIdentifierFromClient
            }
        }
        if topicName.isEmpty {
            guard context.version == .v5 && properties.topicAlias != nil else { throw .emptyTopicName }
        } else if !MQTTTopic.isValidTopicName(topicName) {
            throw .invalidTopicName(topicName)
        }
        let payload = body.readSlice(length: body.readableBytes) ?? ByteBuffer()
        if context.validatePayloadFormat && properties.payloadFormatIndicator == .utf8
            && !payload.withUnsafeReadableBytes(MQTTUTF8.isWellFormed)
        {
            throw .payloadFormatInvalid
        }
        self.init(
            dup: dup, qos: qos, retain: flags & 0x01 != 0, topicName: topicName,
            packetIdentifier: packetIdentifier, properties: properties, payload: payload)
    }

    /// The fixed-header flags.
    var flags: UInt8 {
        (dup ? 0x08 : 0) | qos.rawValue << 1 | (retain ? 0x01 : 0)
    }

    /// Writes the variable header (topic, packet identifier, properties); the caller appends the
    /// payload so that it is copied exactly once.
    func encodeVariableHeader(into out: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        if topicName.isEmpty {
            guard version == .v5 && properties.topicAlias != nil else { throw .invalidTopicName(topicName) }
        } else if !MQTTTopic.isValidTopicName(topicName) {
            throw .invalidTopicName(topicName)
        }
        if dup && qos == .atMostOnce { throw .duplicateFlagWithQoS0 }
        try out.writeMQTTString(topicName, "topic name")
        switch (qos, packetIdentifier) {
        case (.atMostOnce, nil): break
        case (.atLeastOnce, let identifier?), (.exactlyOnce, let identifier?):
            guard identifier != 0 else { throw .invalidPacketIdentifier(.publish) }
            out.writeInteger(identifier)
        default: throw .invalidPacketIdentifier(.publish)
        }
        if version == .v5 { try properties.encode(into: &out, context: .publish) }
    }
}
