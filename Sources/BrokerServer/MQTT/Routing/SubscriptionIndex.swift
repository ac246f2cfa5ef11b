/// A topic-filter trie: which clients' subscriptions match a topic name.
///
/// Filters are split into levels at `/` (empty levels kept). `+` matches exactly one level, `#`
/// the parent level and any number of levels below it; neither matches a first level starting
/// with `$` (MQTT 5.0 §4.7.2). Shared subscriptions (`$share/{group}/{filter}`, and the
/// `$queue/{filter}` shorthand, which is the group `$queue`) are stored per group and returned as
/// groups so that the broker delivers each message to one member.
///
/// A value type: copies are independent; not thread-safe to mutate from two places.
public struct SubscriptionIndex: Sendable {
    /// The key of one subscription: a client and the filter exactly as it subscribed.
    public struct Key: Hashable, Sendable {
        /// The subscribing client.
        public var clientIdentifier: String
        /// The full filter, including any `$share/{group}/` or `$queue/` prefix.
        public var topicFilter: String

        /// A key.
        public init(clientIdentifier: String, topicFilter: String) {
            self.clientIdentifier = clientIdentifier
            self.topicFilter = topicFilter
        }
    }

    /// One stored subscription.
    public struct Entry: Hashable, Sendable {
        /// The subscribing client.
        public var clientIdentifier: String
        /// The options, with ``MQTTSubscription/topicFilter`` the full filter.
        public var subscription: MQTTSubscription
        /// The v5 Subscription Identifier given with the SUBSCRIBE, if any.
        public var subscriptionIdentifier: UInt32?

        /// An entry.
        public init(clientIdentifier: String, subscription: MQTTSubscription, subscriptionIdentifier: UInt32? = nil) {
            self.clientIdentifier = clientIdentifier
            self.subscription = subscription
            self.subscriptionIdentifier = subscriptionIdentifier
        }
    }

    /// A client with at least one matching non-shared subscription; when several of its
    /// subscriptions match, one message is delivered with the highest QoS and every subscription
    /// identifier (MQTT 5.0 §3.3.4).
    public struct Subscriber: Hashable, Sendable {
        /// The client to deliver to.
        public var clientIdentifier: String
        /// The highest QoS of the matching subscriptions.
        public var qos: MQTTQoS
        /// Whether any matching subscription asked for Retain As Published.
        public var retainAsPublished: Bool
        /// The identifiers of the matching subscriptions, ascending, without duplicates.
        public var subscriptionIdentifiers: [UInt32]
        /// The matching filters, ascending.
        public var topicFilters: [String]
    }

    /// A shared subscription group with at least one member subscribed to a matching filter.
    public struct SharedGroup: Hashable, Sendable {
        /// The share name (`$queue` for `$queue/` filters).
        public var group: String
        /// The filter inside the share.
        public var topicFilter: String
        /// The members, ordered by client identifier; the broker picks one per message.
        public var members: [Entry]
    }

    /// The result of ``match(topic:publisher:)``.
    public struct Match: Hashable, Sendable {
        /// Non-shared subscribers, ordered by client identifier.
        public var subscribers: [Subscriber]
        /// Matching shared groups, ordered by group then filter.
        public var sharedGroups: [SharedGroup]
    }

    /// Where a filter lives in the trie.
    enum Placement: Hashable {
        case plain(levels: [Substring])
        case shared(group: String, filter: String, levels: [Substring])
    }

    struct Node: Sendable {
        var children: [Substring: Node] = [:]
        /// Non-shared subscriptions ending here, by client.
        var entries: [String: Entry] = [:]
        /// Shared subscriptions ending here, by group then client.
        var shared: [String: [String: Entry]] = [:]

        var isEmpty: Bool { children.isEmpty && entries.isEmpty && shared.isEmpty }
    }

    var root = Node()
    private var byClient: [String: Set<String>] = [:]

    /// An empty index.
    public init() {}

    /// The number of stored subscriptions.
    public var count: Int { byClient.values.reduce(0) { $0 + $1.count } }

    /// The filters `clientIdentifier` is subscribed to, ascending.
    public func topicFilters(of clientIdentifier: String) -> [String] {
        (byClient[clientIdentifier] ?? []).sorted()
    }

    /// Parses a full filter; `nil` if it is not a valid (plain, `$share` or `$queue`) filter.
    static func placement(of filter: String) -> Placement? {
        if filter.hasPrefix("$queue/") {
            let inner = String(filter.utf8.dropFirst("$queue/".utf8.count)) ?? ""
            guard MQTTTopic.isValidPlainFilter(inner) else { return nil }
            return .shared(group: "$queue", filter: inner, levels: levels(inner))
        }
        switch MQTTTopic.sharedSubscription(filter) {
        case .notShared:
            guard MQTTTopic.isValidPlainFilter(filter) else { return nil }
            return .plain(levels: levels(filter))
        case .shared(let share):
            return .shared(group: share.group, filter: share.filter, levels: levels(share.filter))
        case .invalid:
            return nil
        }
    }

    static func levels(_ name: String) -> [Substring] {
        name.split(separator: "/", omittingEmptySubsequences: false)
    }

    /// Adds or replaces the subscription of `entry.clientIdentifier` to its filter. Returns
    /// `false` (and changes nothing) if the filter is invalid; otherwise whether it replaced an
    /// existing subscription is given by ``contains(_:)`` before the call.
    @discardableResult
    public mutating func insert(_ entry: Entry) -> Bool {
        let filter = entry.subscription.topicFilter
        guard let placement = Self.placement(of: filter) else { return false }
        switch placement {
        case .plain(let levels):
            Self.update(&root, levels[...]) { $0.entries[entry.clientIdentifier] = entry }
        case .shared(let group, _, let levels):
            Self.update(&root, levels[...]) { $0.shared[group, default: [:]][entry.clientIdentifier] = entry }
        }
        byClient[entry.clientIdentifier, default: []].insert(filter)
        return true
    }

    /// Whether `key` is subscribed.
    public func contains(_ key: Key) -> Bool {
        byClient[key.clientIdentifier]?.contains(key.topicFilter) ?? false
    }

    /// The stored entry for `key`, if any.
    public func entry(for key: Key) -> Entry? {
        guard contains(key), let placement = Self.placement(of: key.topicFilter) else { return nil }
        switch placement {
        case .plain(let levels):
            return Self.node(root, levels[...])?.entries[key.clientIdentifier]
        case .shared(let group, _, let levels):
            return Self.node(root, levels[...])?.shared[group]?[key.clientIdentifier]
        }
    }

    /// Removes one subscription; returns whether it existed.
    @discardableResult
    public mutating func remove(_ key: Key) -> Bool {
        guard contains(key), let placement = Self.placement(of: key.topicFilter) else { return false }
        switch placement {
        case .plain(let levels):
            Self.update(&root, levels[...]) { $0.entries[key.clientIdentifier] = nil }
        case .shared(let group, _, let levels):
            Self.update(&root, levels[...]) { node in
                node.shared[group]?[key.clientIdentifier] = nil
                if node.shared[group]?.isEmpty == true { node.shared[group] = nil }
            }
        }
        byClient[key.clientIdentifier]?.remove(key.topicFilter)
        if byClient[key.clientIdentifier]?.isEmpty == true { byClient[key.clientIdentifier] = nil }
        return true
    }

    /// Removes every subscription of `clientIdentifier`; returns how many there were.
    @discardableResult
    public mutating func removeAll(clientIdentifier: String) -> Int {
        let filters = byClient[clientIdentifier] ?? []
        for filter in filters { remove(Key(clientIdentifier: clientIdentifier, topicFilter: filter)) }
        return filters.count
    }

    private static func update(_ node: inout Node, _ levels: ArraySlice<Substring>, _ body: (inout Node) -> Void) {
        guard let first = levels.first else {
            body(&node)
            return
        }
        var child = node.children.removeValue(forKey: first) ?? Node()
        update(&child, levels.dropFirst(), body)
        if !child.isEmpty { node.children[first] = child }
    }

    private static func node(_ node: Node, _ levels: ArraySlice<Substring>) -> Node? {
        guard let first = levels.first else { return node }
        guard let child = node.children[first] else { return nil }
        return Self.node(child, levels.dropFirst())
    }
}
