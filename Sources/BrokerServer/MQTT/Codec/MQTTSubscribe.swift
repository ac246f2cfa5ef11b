import NIOCore

/// SUBSCRIBE: one or more topic filters to subscribe to.
public struct MQTTSubscribe: Hashable, Sendable {
    /// Non-zero.
    public var packetIdentifier: UInt16
    /// SUBSCRIBE properties (5.0): at most one subscription identifier, user properties.
    public var properties: MQTTProperties
    /// At least one.
    public var subscriptions: [MQTTSubscription]

    /// Creates a SUBSCRIBE.
    public init(packetIdentifier: UInt16, properties: MQTTProperties = MQTTProperties(), subscriptions: [MQTTSubscription]) {
        self.packetIdentifier = packetIdentifier
        self.properties = properties
        self.subscriptions = subscriptions
    }
}

extension MQTTSubscribe {
    init(decoding body: inout ByteBuffer, context: MQTTDecodingContext) throws(MQTTDecodeError) {
        let identifier: UInt16 = try body.readMQTTInteger("packet identifier")
        guard identifier != 0 else { throw .zeroPacketIdentifier(.subscribe) }
        let properties =
            context.version == .v5
            ? try MQTTProperties.decode(from: &body, context: .subscribe, rejectDiscouraged: context.rejectDiscouragedCodePoints)
            : MQTTProperties()
        var subscriptions: [MQTTSubscription] = []
        while body.readableBytes > 0 {
            let filter = try body.readMQTTString("topic filter", rejectDiscouraged: context.rejectDiscouragedCodePoints)
            let options: UInt8 = try body.readMQTTInteger("subscription options")
            let subscription = try MQTTSubscription(topicFilter: filter, options: options, version: context.version)
            switch MQTTTopic.sharedSubscription(filter) {
            case .notShared:
                guard MQTTTopic.isValidPlainFilter(filter) else { throw .invalidTopicFilter(filter) }
            case .shared:
                if subscription.noLocal { throw .noLocalOnSharedSubscription }
            case .invalid:
                throw .invalidTopicFilter(filter)
            }
            subscriptions.append(subscription)
        }
        guard !subscriptions.isEmpty else { throw .emptyPayload(.subscribe) }
        self.init(packetIdentifier: identifier, properties: properties, subscriptions: subscriptions)
    }

    func encode(into out: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        guard packetIdentifier != 0 else { throw .invalidPacketIdentifier(.subscribe) }
        guard !subscriptions.isEmpty else { throw .emptyPayload(.subscribe) }
        out.writeInteger(packetIdentifier)
        if version == .v5 { try properties.encode(into: &out, context: .subscribe) }
        for subscription in subscriptions {
            guard MQTTTopic.isValidFilter(subscription.topicFilter) else {
                throw .invalidTopicFilter(subscription.topicFilter)
            }
            try out.writeMQTTString(subscription.topicFilter, "topic filter")
            out.writeInteger(try subscription.options(version: version))
        }
    }
}
