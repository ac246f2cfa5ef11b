import Testing

@testable import Shared

@Suite("ACLEngine")
struct ACLEngineTests {
    static func request(
        tenant: String = "acme", user: String? = "alice", client: String = "dev-1", superuser: Bool = false,
        peer: String? = "10.1.2.3", _ action: ACLRequest.Action, _ topic: String, qos: UInt8 = 0, retain: Bool = false
    ) -> ACLRequest {
        ACLRequest(
            tenant: tenant, username: user, clientID: client, isSuperuser: superuser,
            peerAddress: peer.flatMap { IPAddress($0) }, action: action, topic: topic, qos: qos, retain: retain)
    }

    static func network(_ text: String) throws -> IPNetwork { try #require(IPNetwork(text)) }

    @Test("default deny and default allow when no rule matches")
    func defaults() {
        let deny = ACLEngine()
        #expect(deny.authorize(Self.request(.publish, "a/b")) == ACLDecision(permission: .deny, reason: .noMatchingRule))
        let allow = ACLEngine(defaultPermission: .allow)
        #expect(allow.authorize(Self.request(.publish, "a/b")) == ACLDecision(permission: .allow, reason: .noMatchingRule))
    }

    @Test("first match in priority order wins, independent of insertion order")
    func priority() {
        var engine = ACLEngine()
        engine.add(ACLRule(priority: 20, permission: .allow, action: .all, topicFilter: "#"), tenant: "acme")
        engine.add(ACLRule(priority: 10, permission: .deny, action: .publish, topicFilter: "secret/#"), tenant: "acme")
        engine.add(ACLRule(priority: 5, permission: .allow, subject: .user("root"), action: .publish, topicFilter: "secret/#"), tenant: "acme")
        #expect(engine.rules(tenant: "acme").map(\.priority) == [5, 10, 20])
        #expect(engine.authorize(Self.request(.publish, "secret/x")) == ACLDecision(permission: .deny, reason: .rule(priority: 10)))
        #expect(engine.authorize(Self.request(user: "root", .publish, "secret/x")) == ACLDecision(permission: .allow, reason: .rule(priority: 5)))
        #expect(engine.authorize(Self.request(.publish, "public/x")) == ACLDecision(permission: .allow, reason: .rule(priority: 20)))
        #expect(engine.authorize(Self.request(.subscribe, "secret/#")).isAllowed, "deny rule is publish-only")
    }

    @Test("subjects: user, client id, any, superuser")
    func subjects() {
        var engine = ACLEngine()
        engine.setRules([
            ACLRule(priority: 1, permission: .allow, subject: .user("alice"), action: .publish, topicFilter: "u"),
            ACLRule(priority: 2, permission: .allow, subject: .clientID("dev-9"), action: .publish, topicFilter: "c"),
            ACLRule(priority: 3, permission: .allow, subject: .superuser, action: .all, topicFilter: "#"),
            ACLRule(priority: 4, permission: .allow, subject: .any, action: .subscribe, topicFilter: "public/+"),
        ], tenant: "acme")
        #expect(engine.authorize(Self.request(.publish, "u")).isAllowed)
        #expect(!engine.authorize(Self.request(user: "bob", .publish, "u")).isAllowed)
        #expect(!engine.authorize(Self.request(user: nil, .publish, "u")).isAllowed)
        #expect(engine.authorize(Self.request(client: "dev-9", .publish, "c")).isAllowed)
        #expect(!engine.authorize(Self.request(.publish, "c")).isAllowed)
        #expect(engine.authorize(Self.request(superuser: true, .publish, "anything/at/all")).isAllowed)
        #expect(!engine.authorize(Self.request(.publish, "anything/at/all")).isAllowed)
        #expect(engine.authorize(Self.request(user: nil, .subscribe, "public/news")).isAllowed)
        #expect(!engine.authorize(Self.request(user: nil, .publish, "public/news")).isAllowed)
    }

    @Test("placeholders %u and %c fill whole levels and never widen a rule")
    func placeholders() {
        var engine = ACLEngine()
        engine.setRules([
            ACLRule(priority: 1, permission: .allow, action: .publish, topicFilter: "users/%u/#"),
            ACLRule(priority: 2, permission: .allow, action: .subscribe, topicFilter: "devices/%c/cmd"),
        ], tenant: "acme")
        #expect(engine.authorize(Self.request(.publish, "users/alice/inbox")).isAllowed)
        #expect(!engine.authorize(Self.request(.publish, "users/bob/inbox")).isAllowed)
        #expect(!engine.authorize(Self.request(user: nil, .publish, "users//inbox")).isAllowed)
        #expect(!engine.authorize(Self.request(user: "", .publish, "users//inbox")).isAllowed)
        #expect(!engine.authorize(Self.request(user: "+", .publish, "users/x/inbox")).isAllowed)
        #expect(!engine.authorize(Self.request(user: "#", .publish, "users/x/inbox")).isAllowed)
        #expect(!engine.authorize(Self.request(user: "a/b", .publish, "users/a/b/inbox")).isAllowed)
        #expect(engine.authorize(Self.request(client: "dev-1", .subscribe, "devices/dev-1/cmd")).isAllowed)
        #expect(!engine.authorize(Self.request(client: "dev-1", .subscribe, "devices/dev-2/cmd")).isAllowed)
        #expect(!engine.authorize(Self.request(client: "dev-1", .subscribe, "devices/+/cmd")).isAllowed)
    }

    @Test("subscribe filters are allowed only when the rule's filter covers them")
    func subscriptionCoverage() {
        var engine = ACLEngine()
        engine.setRules([
            ACLRule(priority: 1, permission: .allow, action: .subscribe, topicFilter: "a/+/c"),
            ACLRule(priority: 2, permission: .allow, action: .subscribe, topicFilter: "x/#"),
        ], tenant: "acme")
        for allowed in ["a/b/c", "a/+/c", "x", "x/#", "x/y/+", "x/y/#", "$share/g/a/b/c", "$share/g/x/#"] {
            #expect(engine.authorize(Self.request(.subscribe, allowed)).isAllowed, "\(allowed)")
        }
        for denied in ["a/#", "a/+/+", "+/b/c", "#", "a/b/c/d", "a/b", "y/#", "$share/g/a/#", "$share//x", "$share/g"] {
            #expect(!engine.authorize(Self.request(.subscribe, denied)).isAllowed, "\(denied)")
        }
    }

    @Test("topic matching follows MQTT wildcard rules, including $ topics")
    func topicMatching() {
        #expect(ACLTopicMatcher.matches(filter: "a/#", topic: "a"))
        #expect(ACLTopicMatcher.matches(filter: "a/+", topic: "a/"))
        #expect(!ACLTopicMatcher.matches(filter: "a/+", topic: "a/b/c"))
        #expect(ACLTopicMatcher.matches(filter: "+/+", topic: "/x"))
        #expect(!ACLTopicMatcher.matches(filter: "#", topic: "$SYS/broker"))
        #expect(!ACLTopicMatcher.matches(filter: "+/broker", topic: "$SYS/broker"))
        #expect(ACLTopicMatcher.matches(filter: "$SYS/#", topic: "$SYS/broker"))
        #expect(!ACLTopicMatcher.covers(filter: "#", requested: "$SYS/#"))
        #expect(ACLTopicMatcher.covers(filter: "$SYS/#", requested: "$SYS/+"))
        var engine = ACLEngine()
        engine.add(ACLRule(priority: 1, permission: .allow, action: .all, topicFilter: "#"), tenant: "acme")
        #expect(!engine.authorize(Self.request(.publish, "$SYS/x")).isAllowed)
        #expect(!engine.authorize(Self.request(.subscribe, "$SYS/#")).isAllowed)
    }

    @Test("invalid topics, filters and QoS are denied even under default allow")
    func invalidInput() {
        let engine = ACLEngine(defaultPermission: .allow)
        for (action, topic) in [
            (ACLRequest.Action.publish, "a/+"), (.publish, "a/#"), (.publish, ""), (.publish, "a\u{0}b"),
            (.subscribe, "a/#/b"), (.subscribe, "a/b+"), (.subscribe, ""), (.subscribe, "$share/g+/a"),
        ] {
            #expect(engine.authorize(Self.request(action, topic)) == ACLDecision(permission: .deny, reason: .invalidTopic), "\(topic)")
        }
        #expect(!engine.authorize(Self.request(.publish, "a", qos: 3)).isAllowed)
    }

    @Test("QoS set and retain condition")
    func qosAndRetain() {
        var engine = ACLEngine()
        engine.setRules([
            ACLRule(priority: 1, permission: .deny, action: .publish, topicFilter: "status/#", retain: .retained),
            ACLRule(priority: 2, permission: .allow, action: .all, topicFilter: "status/#", qos: [0, 1]),
        ], tenant: "acme")
        #expect(engine.authorize(Self.request(.publish, "status/x", qos: 1)).isAllowed)
        #expect(!engine.authorize(Self.request(.publish, "status/x", qos: 2)).isAllowed)
        #expect(engine.authorize(Self.request(.publish, "status/x", qos: 1, retain: true)) == ACLDecision(permission: .deny, reason: .rule(priority: 1)))
        #expect(engine.authorize(Self.request(.subscribe, "status/#", qos: 0, retain: true)).isAllowed, "retain ignored for subscribe")
        var onlyRetained = ACLEngine()
        onlyRetained.add(ACLRule(priority: 1, permission: .allow, action: .publish, topicFilter: "r", retain: .retained), tenant: "acme")
        #expect(onlyRetained.authorize(Self.request(.publish, "r", retain: true)).isAllowed)
        #expect(!onlyRetained.authorize(Self.request(.publish, "r", retain: false)).isAllowed)
        var notRetained = ACLEngine()
        notRetained.add(ACLRule(priority: 1, permission: .allow, action: .publish, topicFilter: "r", retain: .notRetained), tenant: "acme")
        #expect(!notRetained.authorize(Self.request(.publish, "r", retain: true)).isAllowed)
    }

    @Test("source networks: IPv4, IPv6, mapped addresses, prefix edges")
    func sourceNetworks() throws {
        var engine = ACLEngine()
        engine.setRules([
            ACLRule(priority: 1, permission: .allow, sources: [try Self.network("10.0.0.0/8"), try Self.network("2001:db8::/32")], action: .publish, topicFilter: "lan"),
            ACLRule(priority: 2, permission: .allow, sources: [try Self.network("192.168.1.77/32")], action: .publish, topicFilter: "host"),
        ], tenant: "acme")
        #expect(engine.authorize(Self.request(peer: "10.255.255.255", .publish, "lan")).isAllowed)
        #expect(!engine.authorize(Self.request(peer: "11.0.0.0", .publish, "lan")).isAllowed)
        #expect(!engine.authorize(Self.request(peer: "9.255.255.255", .publish, "lan")).isAllowed)
        #expect(engine.authorize(Self.request(peer: "::ffff:10.0.0.1", .publish, "lan")).isAllowed)
        #expect(engine.authorize(Self.request(peer: "2001:db8:ffff::1", .publish, "lan")).isAllowed)
        #expect(!engine.authorize(Self.request(peer: "2001:db9::1", .publish, "lan")).isAllowed)
        #expect(!engine.authorize(Self.request(peer: nil, .publish, "lan")).isAllowed)
        #expect(engine.authorize(Self.request(peer: "192.168.1.77", .publish, "host")).isAllowed)
        #expect(!engine.authorize(Self.request(peer: "192.168.1.78", .publish, "host")).isAllowed)
    }

    @Test("CIDR parsing and containment edge cases")
    func cidr() throws {
        let everything = try Self.network("0.0.0.0/0")
        #expect(everything.contains(try #require(IPAddress("255.255.255.255"))))
        #expect(!everything.contains(try #require(IPAddress("::1"))), "IPv4 networks never match native IPv6")
        let allV6 = try Self.network("::/0")
        #expect(allV6.contains(try #require(IPAddress("fe80::1"))))
        #expect(!allV6.contains(try #require(IPAddress("1.2.3.4"))))
        let odd = try Self.network("172.16.5.4/12")
        #expect(odd.description == "172.16.0.0/12")
        #expect(odd.contains(try #require(IPAddress("172.31.255.255"))))
        #expect(!odd.contains(try #require(IPAddress("172.32.0.0"))))
        let v6 = try Self.network("fe80::/10")
        #expect(v6.contains(try #require(IPAddress("febf::1"))))
        #expect(!v6.contains(try #require(IPAddress("fec0::1"))))
        #expect(try Self.network("::1/128").contains(try #require(IPAddress("::1"))))
        #expect(try Self.network("10.0.0.1").prefixLength == 32)
        for bad in ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0/8", "10.0.0.0/-1", "10.0.0.0/8/8", "256.0.0.0/8", "hello", "", "1.2.3.4/0x8", "fe80::1%eth0/64"] {
            #expect(IPNetwork(bad) == nil, "\(bad)")
        }
    }

    @Test("a rule of tenant A never matches a request of tenant B")
    func tenantIsolation() {
        var engine = ACLEngine()
        engine.add(ACLRule(priority: 1, permission: .allow, subject: .any, action: .all, topicFilter: "#"), tenant: "A")
        engine.add(ACLRule(priority: 1, permission: .allow, subject: .superuser, action: .all, topicFilter: "#"), tenant: "A")
        #expect(engine.authorize(Self.request(tenant: "A", .publish, "x")).isAllowed)
        #expect(engine.authorize(Self.request(tenant: "B", .publish, "x")) == ACLDecision(permission: .deny, reason: .noMatchingRule))
        #expect(!engine.authorize(Self.request(tenant: "B", superuser: true, .subscribe, "#")).isAllowed)
        #expect(engine.rules(tenant: "B").isEmpty)
    }

    @Test("cached authorizer answers like the engine and invalidates explicitly")
    func cache() {
        var engine = ACLEngine()
        engine.add(ACLRule(priority: 1, permission: .allow, subject: .user("alice"), action: .publish, topicFilter: "a"), tenant: "acme")
        var authorizer = ACLAuthorizer(engine: engine, cacheCapacity: 8)
        #expect(authorizer.authorize(Self.request(.publish, "a")).isAllowed)
        #expect(authorizer.cache.count == 1)
        #expect(authorizer.authorize(Self.request(.publish, "a")).isAllowed)
        #expect(authorizer.cache.count == 1)
        #expect(authorizer.authorize(Self.request(.publish, "a", qos: 1, retain: true)).isAllowed)
        #expect(authorizer.cache.count == 2)
        #expect(!authorizer.authorize(Self.request(tenant: "other", .publish, "a")).isAllowed, "tenant is part of the key")
        authorizer.invalidate(tenant: "acme", clientID: "dev-1")
        #expect(authorizer.cache.count == 1)
        var stricter = ACLEngine()
        stricter.add(ACLRule(priority: 1, permission: .deny, action: .all, topicFilter: "#"), tenant: "acme")
        _ = authorizer.authorize(Self.request(.publish, "a"))
        authorizer.updateEngine(stricter)
        #expect(authorizer.cache.count == 0)
        #expect(!authorizer.authorize(Self.request(.publish, "a")).isAllowed)
    }

    @Test("cache stays bounded and keeps recently used decisions")
    func cacheBound() {
        var cache = ACLDecisionCache(capacity: 8)
        let allow = ACLDecision(permission: .allow, reason: .noMatchingRule)
        cache.store(allow, for: Self.request(.publish, "hot"))
        for index in 0..<100 {
            cache.store(allow, for: Self.request(.publish, "t\(index)"))
            #expect(cache.decision(for: Self.request(.publish, "hot")) == allow)
            #expect(cache.count <= 8)
        }
        #expect(cache.decision(for: Self.request(.publish, "t0")) == nil)
        cache.invalidate(tenant: "acme")
        #expect(cache.count == 0)
    }
}
