/// One subscription as the session granted it.
public struct MQTTSubscriptionRequest: Hashable, Sendable {
    /// The filter and options; ``MQTTSubscription/qos`` is the granted QoS.
    public var subscription: MQTTSubscription
    /// The v5 Subscription Identifier of the SUBSCRIBE, if any.
    public var subscriptionIdentifier: UInt32?
    /// Whether the client had no subscription to this filter before.
    public var isNew: Bool

    /// A request.
    public init(subscription: MQTTSubscription, subscriptionIdentifier: UInt32? = nil, isNew: Bool) {
        self.subscription = subscription
        self.subscriptionIdentifier = subscriptionIdentifier
        self.isNew = isNew
    }
}
