import PropertyBased
import Testing

@testable import BrokerServer

/// The trie against the filter semantics of MQTT 5.0 §4.7 and §4.8.2.
@Suite("Subscription index")
struct SubscriptionIndexTests {
    private func entry(
        _ client: String, _ filter: String, qos: MQTTQoS = .atMostOnce, noLocal: Bool = false,
        retainAsPublished: Bool = false, id: UInt32? = nil
    ) -> SubscriptionIndex.Entry {
        SubscriptionIndex.Entry(
            clientIdentifier: client,
            subscription: MQTTSubscription(topicFilter: filter, qos: qos, noLocal: noLocal, retainAsPublished: retainAsPublished),
            subscriptionIdentifier: id)
    }

    private func clients(_ index: SubscriptionIndex, _ topic: String) -> [String] {
        index.match(topic: topic).subscribers.map(\.clientIdentifier)
    }

    @Test("+ matches one level, # the parent and any levels below")
    func wildcards() {
        var index = SubscriptionIndex()
        index.insert(entry("plus", "sport/+/player1"))
        index.insert(entry("hash", "sport/#"))
        index.insert(entry("exact", "sport/tennis/player1"))
        index.insert(entry("all", "#"))
        index.insert(entry("emptyLevel", "+/+"))
        #expect(clients(index, "sport/tennis/player1") == ["all", "exact", "hash", "plus"])
        #expect(clients(index, "sport") == ["all", "hash"])
        #expect(clients(index, "sport/tennis/player1/ranking") == ["all", "hash"])
        #expect(clients(index, "/finance") == ["all", "emptyLevel"])
        #expect(clients(index, "sports/x") == ["all", "emptyLevel"])
    }

    @Test("Wildcards at the first level do not match $ topics")
    func systemTopics() {
        var index = SubscriptionIndex()
        index.insert(entry("all", "#"))
        index.insert(entry("plus", "+/monitor/Clients"))
        index.insert(entry("sys", "$SYS/#"))
        index.insert(entry("sysPlus", "$SYS/monitor/+"))
        #expect(clients(index, "$SYS/monitor/Clients") == ["sys", "sysPlus"])
        #expect(clients(index, "a/monitor/Clients") == ["all", "plus"])
    }

    @Test("A client matched by several filters is returned once with max QoS and every identifier")
    func overlapping() throws {
        var index = SubscriptionIndex()
        index.insert(entry("c", "a/+", qos: .atMostOnce, id: 7))
        index.insert(entry("c", "a/#", qos: .exactlyOnce, retainAsPublished: true, id: 3))
        index.insert(entry("c", "a/b", qos: .atLeastOnce))
        let match = index.match(topic: "a/b")
        let subscriber = try #require(match.subscribers.first)
        #expect(match.subscribers.count == 1)
        #expect(subscriber.qos == .exactlyOnce)
        #expect(subscriber.subscriptionIdentifiers == [3, 7])
        #expect(subscriber.retainAsPublished)
        #expect(subscriber.topicFilters == ["a/#", "a/+", "a/b"])
    }

    @Test("No Local leaves out the publisher's own subscription only")
    func noLocal() {
        var index = SubscriptionIndex()
        index.insert(entry("me", "t", noLocal: true))
        index.insert(entry("other", "t", noLocal: true))
        #expect(index.match(topic: "t", publisher: "me").subscribers.map(\.clientIdentifier) == ["other"])
        #expect(index.match(topic: "t").subscribers.map(\.clientIdentifier) == ["me", "other"])
    }

    @Test("Shared subscriptions come back as groups, $queue as the group $queue")
    func shared() {
        var index = SubscriptionIndex()
        index.insert(entry("b", "$share/g1/t/+", qos: .atLeastOnce))
        index.insert(entry("a", "$share/g1/t/+"))
        index.insert(entry("c", "$share/g2/t/#"))
        index.insert(entry("d", "$queue/t/x"))
        index.insert(entry("plain", "t/x"))
        let match = index.match(topic: "t/x")
        #expect(match.subscribers.map(\.clientIdentifier) == ["plain"])
        #expect(match.sharedGroups.map(\.group) == ["$queue", "g1", "g2"])
        #expect(match.sharedGroups.map(\.topicFilter) == ["t/x", "t/+", "t/#"])
        #expect(match.sharedGroups[1].members.map(\.clientIdentifier) == ["a", "b"])
        #expect(match.sharedGroups[1].members[1].subscription.qos == .atLeastOnce)
        #expect(index.match(topic: "t/y").sharedGroups.map(\.group) == ["g1", "g2"])
    }

    @Test("Replace, remove, removeAll and invalid filters")
    func mutation() {
        var index = SubscriptionIndex()
        let invalidHash = index.insert(entry("c", "a/#/b"))
        let invalidShare = index.insert(entry("c", "$share//a"))
        let first = index.insert(entry("c", "a/b", qos: .atMostOnce))
        let replaced = index.insert(entry("c", "a/b", qos: .exactlyOnce))
        #expect(!invalidHash && !invalidShare && first && replaced)
        #expect(index.count == 1)
        #expect(index.match(topic: "a/b").subscribers.first?.qos == .exactlyOnce)
        index.insert(entry("c", "$share/g/a/b"))
        index.insert(entry("c", "x"))
        #expect(index.topicFilters(of: "c") == ["$share/g/a/b", "a/b", "x"])
        #expect(index.entry(for: .init(clientIdentifier: "c", topicFilter: "$share/g/a/b"))?.subscription.topicFilter == "$share/g/a/b")
        let removed = index.remove(.init(clientIdentifier: "c", topicFilter: "a/b"))
        let removedAgain = index.remove(.init(clientIdentifier: "c", topicFilter: "a/b"))
        #expect(removed && !removedAgain)
        #expect(index.match(topic: "a/b").subscribers.isEmpty)
        #expect(index.match(topic: "a/b").sharedGroups.count == 1)
        let removedAll = index.removeAll(clientIdentifier: "c")
        #expect(removedAll == 2)
        #expect(index.count == 0)
        #expect(index.match(topic: "a/b") == SubscriptionIndex.Match(subscribers: [], sharedGroups: []))
    }
}

/// The trie agrees with a direct implementation of the matching rules on random filters/topics.
@Suite("Subscription index properties")
struct SubscriptionIndexPropertyTests {
    /// Level-by-level matching straight from the specification's wording.
    static func naiveMatches(filter: String, topic: String) -> Bool {
        let f = filter.split(separator: "/", omittingEmptySubsequences: false)
        let t = topic.split(separator: "/", omittingEmptySubsequences: false)
        if topic.hasPrefix("$") && (f[0] == "+" || f[0] == "#") { return false }
        var i = 0
        while i < f.count {
            if f[i] == "#" { return true }
            guard i < t.count else { return false }
            if f[i] != "+" && f[i] != t[i] { return false }
            i += 1
        }
        return i == t.count
    }

    static let level = Gen.int(in: 0...3).map { ["a", "b", "", "$s"][$0] }
    static let filterLevel = Gen.int(in: 0...5).map { ["a", "b", "", "$s", "+", "+"][$0] }

    static let filter = zip(filterLevel.array(of: 1...4), Gen.bool).map { levels, hash in
        let filter = (levels + (hash ? ["#"] : [])).joined(separator: "/")
        return filter.isEmpty ? "a" : filter  // the empty filter is invalid
    }
    static let topic = level.array(of: 1...5).map { levels in
        let topic = levels.joined(separator: "/")
        return topic.isEmpty ? "b" : topic  // the empty topic name is invalid
    }
    static let subscriptions = zip(Gen.int(in: 0...3), filter, Gen.int(in: 0...2)).array(of: 0...12)

    @Test("match equals the brute-force matcher")
    func agreesWithNaive() async {
        await propertyCheck(count: 300, input: Self.subscriptions, Self.topic.array(of: 1...6)) { subs, topics in
            var index = SubscriptionIndex()
            var expected: [String: [String: MQTTQoS]] = [:]
            for (client, filter, qos) in subs {
                let name = "c\(client)"
                let level = MQTTQoS(rawValue: UInt8(qos)) ?? .atMostOnce
                let inserted = index.insert(.init(clientIdentifier: name, subscription: MQTTSubscription(topicFilter: filter, qos: level)))
                #expect(inserted)
                expected[name, default: [:]][filter] = level
            }
            for topic in topics {
                var want: [String: MQTTQoS] = [:]
                for (client, filters) in expected {
                    for (filter, qos) in filters where Self.naiveMatches(filter: filter, topic: topic) {
                        want[client] = max(want[client] ?? .atMostOnce, qos)
                    }
                }
                let got = index.match(topic: topic).subscribers
                #expect(Dictionary(uniqueKeysWithValues: got.map { ($0.clientIdentifier, $0.qos) }) == want, "topic \(topic)")
            }
            for client in expected.keys { index.removeAll(clientIdentifier: client) }
            for topic in topics { #expect(index.match(topic: topic).subscribers.isEmpty) }
        }
    }

    /// Random inserts and removals of plain, `$share` and `$queue` subscriptions with identifiers
    /// and No Local, checked against a brute-force scan of what is subscribed.
    @Test("groups, identifiers and No Local agree with a brute-force scan after inserts and removals")
    func sharedAndIdentifiers() async {
        let prefix = Gen.int(in: 0...3).map { ["", "", "$share/g1/", "$queue/"][$0] }
        let operation = zip(Gen.int(in: 0...2), prefix, Self.filter, Gen.int(in: 0...3), Gen.bool)
        await propertyCheck(count: 200, input: operation.array(of: 0...25), Self.topic.array(of: 1...4)) { operations, topics in
            var index = SubscriptionIndex()
            var model: [SubscriptionIndex.Key: SubscriptionIndex.Entry] = [:]
            for (client, prefix, filter, identifier, remove) in operations {
                let name = "c\(client)"
                let full = prefix + filter
                let key = SubscriptionIndex.Key(clientIdentifier: name, topicFilter: full)
                if remove {
                    let removed = index.remove(key)
                    #expect(removed == (model.removeValue(forKey: key) != nil))
                } else {
                    let noLocal = prefix.isEmpty && identifier == 3
                    let entry = SubscriptionIndex.Entry(
                        clientIdentifier: name, subscription: MQTTSubscription(topicFilter: full, noLocal: noLocal),
                        subscriptionIdentifier: identifier == 0 ? nil : UInt32(identifier))
                    let inserted = index.insert(entry)
                    #expect(inserted)
                    model[key] = entry
                }
            }
            #expect(index.count == model.count)
            for topic in topics {
                let match = index.match(topic: topic, publisher: "c1")
                var identifiers: [String: Set<UInt32>] = [:]
                var groups: [String: [String]] = [:]
                for (key, entry) in model {
                    let inner = SubscriptionIndex.innerFilter(key.topicFilter)
                    guard Self.naiveMatches(filter: inner, topic: topic) else { continue }
                    if key.topicFilter == inner {
                        if entry.subscription.noLocal && key.clientIdentifier == "c1" { continue }
                        identifiers[key.clientIdentifier, default: []].formUnion(entry.subscriptionIdentifier.map { [$0] } ?? [])
                    } else {
                        let group = key.topicFilter.hasPrefix("$queue/") ? "$queue" : "g1"
                        groups[group + " " + inner, default: []].append(key.clientIdentifier)
                    }
                }
                let gotIdentifiers = Dictionary(uniqueKeysWithValues: match.subscribers.map { ($0.clientIdentifier, Set($0.subscriptionIdentifiers)) })
                #expect(gotIdentifiers == identifiers, "topic \(topic)")
                let gotGroups = Dictionary(uniqueKeysWithValues: match.sharedGroups.map { ($0.group + " " + $0.topicFilter, $0.members.map(\.clientIdentifier)) })
                #expect(gotGroups == groups.mapValues { $0.sorted() }, "topic \(topic)")
            }
        }
    }
}
