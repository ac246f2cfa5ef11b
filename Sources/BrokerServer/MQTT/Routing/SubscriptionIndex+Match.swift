extension SubscriptionIndex {
    /// The subscriptions matching the topic name `topic`.
    ///
    /// - Parameter publisher: the publishing client, if the message comes from one; its own
    ///   subscriptions with No Local set are left out (MQTT 5.0 §3.8.3.1).
    public func match(topic: String, publisher: String? = nil) -> Match {
        guard MQTTTopic.isValidTopicName(topic) else { return Match(subscribers: [], sharedGroups: []) }
        let levels = Self.levels(topic)
        var found: [Entry] = []
        var foundShared: [(group: String, entry: Entry)] = []
        let isSystem = topic.utf8.first == UInt8(ascii: "$")
        Self.collect(root, levels[...], isFirstLevel: true, isSystem: isSystem) { node in
            found.append(contentsOf: node.entries.values)
            for (group, members) in node.shared {
                for member in members.values { foundShared.append((group, member)) }
            }
        }

        var byClient: [String: Subscriber] = [:]
        for entry in found {
            if entry.subscription.noLocal && entry.clientIdentifier == publisher { continue }
            var subscriber =
                byClient[entry.clientIdentifier]
                ?? Subscriber(
                    clientIdentifier: entry.clientIdentifier, qos: .atMostOnce, retainAsPublished: false,
                    subscriptionIdentifiers: [], topicFilters: [])
            subscriber.qos = max(subscriber.qos, entry.subscription.qos)
            subscriber.retainAsPublished = subscriber.retainAsPublished || entry.subscription.retainAsPublished
            if let identifier = entry.subscriptionIdentifier { subscriber.subscriptionIdentifiers.append(identifier) }
            subscriber.topicFilters.append(entry.subscription.topicFilter)
            byClient[entry.clientIdentifier] = subscriber
        }
        let subscribers = byClient.values.map { subscriber in
            var normalized = subscriber
            normalized.subscriptionIdentifiers = Array(Set(subscriber.subscriptionIdentifiers)).sorted()
            normalized.topicFilters.sort()
            return normalized
        }.sorted { $0.clientIdentifier < $1.clientIdentifier }

        var groups: [String: SharedGroup] = [:]
        for (group, entry) in foundShared {
            let inner = Self.innerFilter(entry.subscription.topicFilter)
            let key = group + "\u{0}" + inner
            groups[key, default: SharedGroup(group: group, topicFilter: inner, members: [])].members.append(entry)
        }
        let sharedGroups = groups.values.map { group in
            var sorted = group
            sorted.members.sort { $0.clientIdentifier < $1.clientIdentifier }
            return sorted
        }.sorted { ($0.group, $0.topicFilter) < ($1.group, $1.topicFilter) }
        return Match(subscribers: subscribers, sharedGroups: sharedGroups)
    }

    /// The filter inside a `$share/{group}/` or `$queue/` prefix (the filter itself otherwise).
    static func innerFilter(_ filter: String) -> String {
        switch placement(of: filter) {
        case .shared(_, let inner, _): return inner
        case .plain, nil: return filter
        }
    }

    private static func collect(
        _ node: Node,
        _ levels: ArraySlice<Substring>,
        isFirstLevel: Bool,
        isSystem: Bool,
        _ visit: (Node) -> Void
    ) {
        let wildcardsAllowed = !(isFirstLevel && isSystem)
        if wildcardsAllowed, let multi = node.children["#"] {
            visit(multi)
        }
        guard let level = levels.first else {
            visit(node)
            return
        }
        if let exact = node.children[level] {
            collect(exact, levels.dropFirst(), isFirstLevel: false, isSystem: isSystem, visit)
        }
        if wildcardsAllowed, let single = node.children["+"] {
            collect(single, levels.dropFirst(), isFirstLevel: false, isSystem: isSystem, visit)
        }
    }
}
