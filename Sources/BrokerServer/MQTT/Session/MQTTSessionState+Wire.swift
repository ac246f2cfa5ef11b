import NIOCore
import Shared

extension MQTTSessionState {
    /// Format version of the encoding.
    static let encodingVersion: UInt8 = 1
    /// Bound on every collection and string of the encoding.
    static let fieldLimit = 1 << 20
    /// Bound on a stored PUBLISH.
    static let publishLimit = MQTTPacket.maximumRemainingLength + 5

    /// Appends the state; subscriptions and in-flight messages are written in sorted order so
    /// equal states encode to equal bytes. In-flight PUBLISHes are stored as v5 packets.
    public func encode(into out: inout ByteBuffer) throws(MQTTEncodeError) {
        out.writeInteger(Self.encodingVersion)
        out.writeLengthPrefixed(string: clientIdentifier)
        out.writeInteger(sessionExpiryInterval)
        out.writeInteger(nextPacketIdentifier)
        out.writeVarint(nextSequence)
        out.writeVarint(UInt64(subscriptions.count))
        for (filter, stored) in subscriptions.sorted(by: { $0.key < $1.key }) {
            out.writeLengthPrefixed(string: filter)
            let options = try stored.subscription.options(version: .v5)
            out.writeInteger(options)
            out.writeVarint(UInt64(stored.subscriptionIdentifier ?? 0))
        }
        out.writeVarint(UInt64(inFlight.count))
        for (identifier, message) in inFlight.sorted(by: { $0.key < $1.key }) {
            out.writeInteger(identifier)
            out.writeInteger(message.phase.rawValue)
            out.writeVarint(message.sequence)
            var packet = ByteBuffer()
            try MQTTPacket.publish(message.publish).encode(version: .v5, into: &packet)
            out.writeLengthPrefixed(bytes: packet)
        }
        out.writeVarint(UInt64(pendingInboundQoS2.count))
        for identifier in pendingInboundQoS2.sorted() { out.writeInteger(identifier) }
    }

    /// Decodes a state written by ``encode(into:)``.
    public init(decoding buffer: inout ByteBuffer) throws(WireDecodingError) {
        let version = try buffer.readFixed("session state version", as: UInt8.self)
        guard version == Self.encodingVersion else { throw .unknownTag(what: "session state version", tag: UInt64(version)) }
        let clientIdentifier = try buffer.readLengthPrefixedString("client identifier", limit: Self.fieldLimit)
        let expiry = try buffer.readFixed("session expiry", as: UInt32.self)
        let nextIdentifier = try buffer.readFixed("next packet identifier", as: UInt16.self)
        let nextSequence = try buffer.readVarint()
        var subscriptions: [String: Subscription] = [:]
        let subscriptionCount = try buffer.readLength("subscription count", limit: Self.fieldLimit)
        for _ in 0..<subscriptionCount {
            let filter = try buffer.readLengthPrefixedString("topic filter", limit: Self.fieldLimit)
            let options = try buffer.readFixed("subscription options", as: UInt8.self)
            let identifier = try buffer.readLength("subscription identifier", limit: Int(MQTTProperties.maximumSubscriptionIdentifier))
            let subscription: MQTTSubscription
            do {
                subscription = try MQTTSubscription(topicFilter: filter, options: options, version: .v5)
            } catch {
                throw .invalidValue(what: "subscription options", reason: "\(error)")
            }
            guard SubscriptionIndex.placement(of: filter) != nil else {
                throw .invalidValue(what: "topic filter", reason: filter)
            }
            subscriptions[filter] = Subscription(
                subscription: subscription, subscriptionIdentifier: identifier == 0 ? nil : UInt32(identifier))
        }
        var inFlight: [UInt16: InFlight] = [:]
        let inFlightCount = try buffer.readLength("in-flight count", limit: Int(UInt16.max))
        for _ in 0..<inFlightCount {
            let identifier = try buffer.readFixed("packet identifier", as: UInt16.self)
            let rawPhase = try buffer.readFixed("in-flight phase", as: UInt8.self)
            guard let phase = OutboundPhase(rawValue: rawPhase) else {
                throw .unknownTag(what: "in-flight phase", tag: UInt64(rawPhase))
            }
            let sequence = try buffer.readVarint()
            var bytes = try buffer.readLengthPrefixedSlice("in-flight publish", limit: Self.publishLimit)
            var decoder = MQTTDecoder(role: .client, version: .v5, configuration: .init(maximumPacketSize: Self.publishLimit))
            let packet: MQTTPacket?
            do {
                packet = try decoder.decodePacket(buffer: &bytes)
            } catch {
                throw .invalidValue(what: "in-flight publish", reason: "\(error)")
            }
            guard case .publish(let publish)? = packet, bytes.readableBytes == 0, publish.packetIdentifier == identifier,
                publish.qos != .atMostOnce
            else { throw .invalidValue(what: "in-flight publish", reason: "not a QoS 1/2 PUBLISH with identifier \(identifier)") }
            inFlight[identifier] = InFlight(publish: publish, phase: phase, sequence: sequence)
        }
        var pending: Set<UInt16> = []
        let pendingCount = try buffer.readLength("pending QoS 2 count", limit: Int(UInt16.max))
        for _ in 0..<pendingCount { pending.insert(try buffer.readFixed("packet identifier", as: UInt16.self)) }
        self.init(
            clientIdentifier: clientIdentifier, subscriptions: subscriptions, inFlight: inFlight,
            pendingInboundQoS2: pending, nextPacketIdentifier: nextIdentifier, nextSequence: nextSequence,
            sessionExpiryInterval: expiry)
    }
}
