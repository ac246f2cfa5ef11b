/// One topic filter of a SUBSCRIBE and its subscription options.
public struct MQTTSubscription: Hashable, Sendable {
    /// When retained messages are sent on subscribe (5.0).
    public enum RetainHandling: UInt8, Hashable, Sendable, CaseIterable {
        case sendOnSubscribe = 0
        case sendOnNewSubscribe = 1
        case doNotSend = 2
    }

    /// A topic filter, possibly a shared subscription `$share/{group}/{filter}`.
    public var topicFilter: String
    /// The maximum QoS granted for this subscription.
    public var qos: MQTTQoS
    /// No Local (5.0): do not forward the client's own publications.
    public var noLocal: Bool
    /// Retain As Published (5.0).
    public var retainAsPublished: Bool
    /// Retain Handling (5.0).
    public var retainHandling: RetainHandling

    /// A subscription; the defaults are the 3.1.1 behaviour at QoS 0.
    public init(
        topicFilter: String,
        qos: MQTTQoS = .atMostOnce,
        noLocal: Bool = false,
        retainAsPublished: Bool = false,
        retainHandling: RetainHandling = .sendOnSubscribe
    ) {
        self.topicFilter = topicFilter
        self.qos = qos
        self.noLocal = noLocal
        self.retainAsPublished = retainAsPublished
        self.retainHandling = retainHandling
    }

    /// Decodes an options byte; 3.1/3.1.1 only carry the QoS.
    init(topicFilter: String, options: UInt8, version: MQTTProtocolVersion) throws(MQTTDecodeError) {
        let reservedMask: UInt8 = version == .v5 ? 0xC0 : 0xFC
        guard options & reservedMask == 0 else { throw .subscriptionOptionsReservedBits(options) }
        guard let qos = MQTTQoS(rawValue: options & 0x03) else { throw .invalidSubscriptionQoS }
        guard let retainHandling = RetainHandling(rawValue: (options >> 4) & 0x03) else {
            throw .invalidRetainHandling
        }
        self.init(
            topicFilter: topicFilter,
            qos: qos,
            noLocal: options & 0x04 != 0,
            retainAsPublished: options & 0x08 != 0,
            retainHandling: retainHandling
        )
    }

    /// The options byte for `version`.
    func options(version: MQTTProtocolVersion) throws(MQTTEncodeError) -> UInt8 {
        if version != .v5 {
            guard !noLocal, !retainAsPublished, retainHandling == .sendOnSubscribe else {
                throw .subscriptionOptionsNotRepresentable
            }
            return qos.rawValue
        }
        return qos.rawValue | (noLocal ? 0x04 : 0) | (retainAsPublished ? 0x08 : 0) | retainHandling.rawValue << 4
    }
}
