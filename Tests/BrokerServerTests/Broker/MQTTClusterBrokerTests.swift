import Foundation
import JournalServer
import Logging
import MetaService
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Shared
import Testing

@testable import BrokerServer

/// Two cluster brokers (ids 1 and 2) in the test process over one meta node and one journal
/// (both through in-process transports, as the real RPC would reach them), each registered
/// under `/nodes/broker/<id>` with its own lease, each with a listener on a free port.
final class ClusterBrokerPair: Sendable {
    let base: BrokerHarness
    let brokers: [MQTTBroker]
    let listeners: [MQTTListener]
    let ports: [Int]
    let leases: [UInt64]

    private init(base: BrokerHarness, brokers: [MQTTBroker], listeners: [MQTTListener], ports: [Int], leases: [UInt64]) {
        self.base = base
        self.brokers = brokers
        self.listeners = listeners
        self.ports = ports
        self.leases = leases
    }

    static func start(sysInterval: Int = 0) async throws -> ClusterBrokerPair {
        let base = try await BrokerHarness.start()
        var brokers: [MQTTBroker] = []
        var listeners: [MQTTListener] = []
        var ports: [Int] = []
        var leases: [UInt64] = []
        for id in 1...2 {
            let lease = try await base.metaClient.grantLease(ttlMillis: 60_000).id
            _ = try await base.metaClient.put(MQTTClusterKeys.brokersPrefix + "\(id)", Array("broker-\(id)".utf8), lease: lease)
            var configuration = MQTTBrokerConfiguration(shardCount: base.options.shards, sysInterval: sysInterval, tickInterval: .milliseconds(200))
            configuration.brokerID = id
            configuration.handoverTimeout = .seconds(3)
            let broker = MQTTBroker(
                configuration: configuration, journal: base.journal, meta: base.metaClient, logger: Logger(label: "test.cluster.\(id)"))
            try await broker.start()
            broker.clusterLeaseGranted(lease)
            let listener = MQTTListener(configuration: .init(host: "127.0.0.1", port: 0), broker: broker, logger: Logger(label: "test"))
            let address = try await listener.start()
            brokers.append(broker)
            listeners.append(listener)
            ports.append(try #require(address.port))
            leases.append(lease)
        }
        return ClusterBrokerPair(base: base, brokers: brokers, listeners: listeners, ports: ports, leases: leases)
    }

    func stop() async {
        for listener in listeners { await listener.stop() }
        for broker in brokers { await broker.shutdown(timeout: .seconds(2)) }
        await base.stop()
    }

    /// The session record of `clientIdentifier`.
    func record(_ clientIdentifier: String) async throws -> MQTTStoredSession? {
        try await MQTTSessionStore(meta: base.metaClient).read(clientIdentifier).0
    }
}

@Suite("MQTT broker cluster (in process)", .serialized)
struct MQTTClusterBrokerTests {
    @Test func sessionRecordRoundTripsWithOwnerAndWill() throws {
        var state = MQTTSessionState(clientIdentifier: "c", sessionExpiryInterval: 120)
        state.subscriptions["a/#"] = .init(subscription: MQTTSubscription(topicFilter: "a/#", qos: .exactlyOnce), subscriptionIdentifier: 7)
        let will = MQTTStoredMessage(
            topic: "will/c", payload: ByteBuffer(string: "bye"), qos: .atLeastOnce, retain: true,
            publisherClientIdentifier: "c", properties: MQTTProperties(), receivedAtMillis: 1000)
        let record = MQTTStoredSession(
            state: state, cursors: [3, 0, 9], disconnectedAtMillis: 5000, owner: .init(broker: 2, epoch: 41), connected: false,
            resumable: true, awaitingHandover: true, will: will, willDelay: 30)
        let decoded = try MQTTStoredSession(decoding: try record.encode())
        #expect(decoded == record)
        let due = try #require(decoded.willDueMillis)
        #expect(due == 35_000, "the will is due its delay after the disconnect")
        // A version 1 record (standalone before clusters) still decodes, with no owner.
        var v1 = ByteBuffer()
        v1.writeInteger(UInt8(1))
        v1.writeVarint(5000)
        v1.writeVarint(1)
        v1.writeVarint(4)
        try state.encode(into: &v1)
        let old = try MQTTStoredSession(decoding: Array(v1.readableBytesView))
        #expect(old.owner == nil && old.resumable && old.cursors == [4] && old.state == state)
        #expect(throws: WireDecodingError.self) { try MQTTStoredSession(decoding: [3, 0, 0]) }
    }

    @Test func publishOnOneBrokerReachesASubscriberOnTheOther() async throws {
        let pair = try await ClusterBrokerPair.start()
        let (subscriber, _) = try await TestMQTTClient.connect(port: pair.ports[1], id: "sub")
        _ = try await subscriber.subscribe("cross/+", qos: .exactlyOnce)
        let (publisher, _) = try await TestMQTTClient.connect(port: pair.ports[0], id: "pub")
        try await publisher.publish("cross/a", "one", qos: .exactlyOnce)
        let message = try await subscriber.nextPublish()
        #expect(message.topicName == "cross/a" && message.payloadString == "one")
        await pair.stop()
    }

    @Test func eachBrokersSysValuesAreRetainedForSubscribersOnEveryBroker() async throws {
        let pair = try await ClusterBrokerPair.start(sysInterval: 60)
        // Broker 1 published its values at start (retained); broker 2 serves them from its
        // retained index, kept fresh by its tail of the retained shard.
        let indexed = await eventuallyTrue {
            pair.brokers[1].state.withLockedValue { !$0.retained.matching("$SYS/brokers/1/uptime").isEmpty }
        }
        #expect(indexed, "broker 2's retained index has broker 1's $SYS values")
        let (watcher, _) = try await TestMQTTClient.connect(port: pair.ports[1], id: "watcher")
        _ = try await watcher.subscribe("$SYS/brokers/1/uptime")
        let message = try await watcher.nextPublish()
        #expect(message.topicName == "$SYS/brokers/1/uptime" && message.retain && message.payloadString.hasSuffix(" seconds"))
        await pair.stop()
    }

    @Test func connectOnTheOtherBrokerTakesTheSessionOverWith0x8E() async throws {
        let pair = try await ClusterBrokerPair.start()
        let (first, _) = try await TestMQTTClient.connect(port: pair.ports[0], id: "mover", clean: false, expiry: 300)
        _ = try await first.subscribe("moved/topic")
        let (second, connack) = try await TestMQTTClient.connect(port: pair.ports[1], id: "mover", clean: false, expiry: 300)
        #expect(connack.sessionPresent, "the session moved with its subscription")
        let packet = try await first.next("DISCONNECT")
        guard case .disconnect(let disconnect) = packet else {
            Issue.record("expected DISCONNECT, got \(packet)")
            return
        }
        #expect(disconnect.reasonCode == .sessionTakenOver)
        #expect(await first.waitClosed())
        let record = try #require(try await pair.record("mover"))
        #expect(record.owner?.broker == 2 && record.connected && !record.awaitingHandover)
        let (publisher, _) = try await TestMQTTClient.connect(port: pair.ports[0], id: "pub")
        try await publisher.publish("moved/topic", "after")
        #expect(try await second.nextPublish().payloadString == "after")
        await pair.stop()
    }

    @Test func willsOfADeadBrokersClientsFireOnce() async throws {
        let pair = try await ClusterBrokerPair.start()
        let (observer, _) = try await TestMQTTClient.connect(port: pair.ports[1], id: "observer")
        _ = try await observer.subscribe("wills/#")
        let will = MQTTWill(topic: "wills/dying", payload: ByteBuffer(string: "gone"), qos: .atLeastOnce, retain: false, properties: MQTTProperties())
        let (dying, _) = try await TestMQTTClient.connect(port: pair.ports[0], id: "dying", will: will)
        let stored = try #require(try await pair.record("dying"))
        #expect(stored.will?.topic == "wills/dying" && stored.connected && stored.owner?.broker == 1)
        // Broker 1's registration ends (as when its lease expires after a crash): broker 2 learns
        // it through its watch and settles broker 1's sessions.
        _ = try await pair.base.metaClient.revokeLease(pair.leases[0])
        let fired = try await observer.nextPublish()
        #expect(fired.topicName == "wills/dying" && fired.payloadString == "gone")
        let gone = try await eventuallyTrue { try await pair.record("dying") == nil }
        #expect(gone, "a session that ends with its connection is deleted")
        // Running the reaper again publishes nothing more.
        let reaper = MQTTSessionReaper(meta: pair.base.metaClient, journal: pair.base.journal, shardCount: pair.base.options.shards, logger: Logger(label: "test"))
        _ = try await reaper.reap(alive: [2])
        try await observer.expectSilence(for: .milliseconds(500))
        #expect(try await pair.base.storedMessages(topic: "wills/dying").count == 1)
        await dying.drop()
        await pair.stop()
    }

    @Test func reapersRacingForOneWillPublishItOnce() async throws {
        let base = try await BrokerHarness.start()
        let store = MQTTSessionStore(meta: base.metaClient)
        for round in 0..<5 {
            let client = "orphan-\(round)"
            let will = MQTTStoredMessage(
                topic: "orphans/\(round)", payload: ByteBuffer(string: "lost"), qos: .atLeastOnce, retain: false,
                publisherClientIdentifier: client, properties: MQTTProperties(), receivedAtMillis: 0)
            let record = MQTTStoredSession(
                state: MQTTSessionState(clientIdentifier: client, sessionExpiryInterval: round % 2 == 0 ? 0 : 600), cursors: [],
                disconnectedAtMillis: 0, owner: .init(broker: 9, epoch: 1), connected: true, resumable: false, will: will)
            _ = try await store.update(client) { _ in .write(record) }
            // Broker 9 is not registered: four reapers settle its session at once.
            let reaper = MQTTSessionReaper(meta: base.metaClient, journal: base.journal, shardCount: base.options.shards, logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { _ = try await reaper.reap(alive: [1]) } }
                try await group.waitForAll()
            }
            #expect(try await base.storedMessages(topic: "orphans/\(round)").count == 1, "round \(round): the will is published once")
            let after = try await store.read(client).0
            if round % 2 == 0 {
                #expect(after == nil, "a session that ends with its connection is deleted")
            } else {
                #expect(after?.connected == false && after?.will == nil && after?.resumable == true, "a persistent session stays, disconnected")
            }
        }
        await base.stop()
    }

    @Test func sharedGroupSpreadsShardsOverMemberBrokers() async throws {
        let pair = try await ClusterBrokerPair.start()
        let (a, _) = try await TestMQTTClient.connect(port: pair.ports[0], id: "member-a")
        _ = try await a.subscribe("$share/g/jobs/#")
        let (b, _) = try await TestMQTTClient.connect(port: pair.ports[1], id: "member-b")
        _ = try await b.subscribe("$share/g/jobs/#")
        let key = MQTTBroker.sharedGroupKey(group: "g", filter: "jobs/#")
        let known = await eventuallyTrue {
            pair.brokers.allSatisfy { broker in broker.state.withLockedValue { $0.sharedBrokers[key] == [1, 2] } }
        }
        #expect(known, "both brokers know both members")
        // Each shard goes to exactly one member broker.
        for shard in 0..<pair.base.options.shards {
            let takers = pair.brokers.filter { broker in
                broker.state.withLockedValue { broker.takesShared(shard: shard, members: $0.sharedBrokers[key]) }
            }
            #expect(takers.count == 1, "shard \(shard)")
        }
        await a.drop()
        let left = await eventuallyTrue {
            pair.brokers.allSatisfy { broker in broker.state.withLockedValue { $0.sharedBrokers[key] == [2] } }
        }
        #expect(left, "a broker whose last member left leaves the group")
        await b.drop()
        await pair.stop()
    }
}

/// Polls `condition` every 10 ms for up to 20 s.
func eventuallyTrue(_ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .seconds(20)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
