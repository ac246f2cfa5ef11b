import NIOCore

/// UNSUBSCRIBE: one or more topic filters to remove.
public struct MQTTUnsubscribe: Hashable, Sendable {
    /// Non-zero.
    public var packetIdentifier: UInt16
    /// UNSUBSCRIBE properties (5.0: user properties only).
    public var properties: MQTTProperties
    /// At least one.
    public var topicFilters: [String]

    /// Creates an UNSUBSCRIBE.
    public init(packetIdentifier: UInt16, properties: MQTTProperties = MQTTProperties(), topicFilters: [String]) {
        self.packetIdentifier = packetIdentifier
        self.properties = properties
        self.topicFilters = topicFilters
    }
}

extension MQTTUnsubscribe {
    init(decoding body: inout ByteBuffer, context: MQTTDecodingContext) throws(MQTTDecodeError) {
        let identifier: UInt16 = try body.readMQTTInteger("packet identifier")
        guard identifier != 0 else { throw .zeroPacketIdentifier(.unsubscribe) }
        let properties =
            context.version == .v5
            ? try MQTTProperties.decode(from: &body, context: .unsubscribe, rejectDiscouraged: context.rejectDiscouragedCodePoints)
            : MQTTProperties()
        var filters: [String] = []
        while body.readableBytes > 0 {
            let filter = try body.readMQTTString("topic filter", rejectDiscouraged: context.rejectDiscouragedCodePoints)
            guard MQTTTopic.isValidFilter(filter) else { throw .invalidTopicFilter(filter) }
            filters.append(filter)
        }
        guard !filters.isEmpty else { throw .emptyPayload(.unsubscribe) }
        self.init(packetIdentifier: identifier, properties: properties, topicFilters: filters)
    }

    func encode(into out: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        guard packetIdentifier != 0 else { throw .invalidPacketIdentifier(.unsubscribe) }
        guard !topicFilters.isEmpty else { throw .emptyPayload(.unsubscribe) }
        out.writeInteger(packetIdentifier)
        if version == .v5 { try properties.encode(into: &out, context: .unsubscribe) }
        for filter in topicFilters {
            guard MQTTTopic.isValidFilter(filter) else { throw .invalidTopicFilter(filter) }
            try out.writeMQTTString(filter, "topic filter")
        }
    }
}
