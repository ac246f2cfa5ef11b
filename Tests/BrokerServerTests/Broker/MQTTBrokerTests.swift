import JournalServer
import NIOCore
import Testing

@testable import BrokerServer

/// The broker end to end: real loopback sockets, an in-process meta node and a real ShardStore
/// in a temporary directory; clients are raw packets through our codec.
@Suite("MQTT broker", .serialized)
struct MQTTBrokerTests {
    @Test func qos0And1And2AreDeliveredEndToEnd() async throws {
        let harness = try await BrokerHarness.start()
        let (subscriber, _) = try await TestMQTTClient.connect(port: harness.port, id: "sub")
        #expect(try await subscriber.subscribe("q/#", qos: .exactlyOnce).reasonCodes == [.grantedQoS2])
        let (publisher, _) = try await TestMQTTClient.connect(port: harness.port, id: "pub")
        #expect(try await publisher.publish("q/0", "zero", qos: .atMostOnce) == .success)
        #expect(try await publisher.publish("q/1", "one", qos: .atLeastOnce, identifier: 1) == .success)
        #expect(try await publisher.publish("q/2", "two", qos: .exactlyOnce, identifier: 2) == .success)
        var received: [String: MQTTQoS] = [:]
        for _ in 0..<3 {
            let publish = try await subscriber.nextPublish()
            received[publish.payloadString] = publish.qos
        }
        #expect(received == ["zero": .atMostOnce, "one": .atLeastOnce, "two": .exactlyOnce])
        try await publisher.disconnect()
        try await subscriber.disconnect()
        await harness.stop()
    }

    @Test func pubAckComesAfterTheRecordIsDurableInTheJournal() async throws {
        let harness = try await BrokerHarness.start()
        let (publisher, _) = try await TestMQTTClient.connect(port: harness.port, id: "durable")
        for index in 1...5 {
            let topic = "durable/\(index)"
            #expect(try await publisher.publish(topic, "m\(index)", qos: .atLeastOnce, identifier: UInt16(index)) == .success)
            // Acknowledged ⇒ already readable from the journal (which serves durable records only).
            let stored = try await harness.storedMessages(topic: topic)
            #expect(stored.map { String(buffer: $0.payload) } == ["m\(index)"])
            #expect(stored.first?.publisherClientIdentifier == "durable")
            #expect(stored.first?.qos == .atLeastOnce)
        }
        try await publisher.disconnect()
        await harness.stop()
    }

    @Test func wildcardsRouteToEveryMatchingSubscriberOnce() async throws {
        let harness = try await BrokerHarness.start()
        let (plus, _) = try await TestMQTTClient.connect(port: harness.port, id: "plus")
        _ = try await plus.subscribe("home/+/temp")
        let (hash, _) = try await TestMQTTClient.connect(port: harness.port, id: "hash")
        _ = try await hash.subscribe("home/#")
        _ = try await hash.subscribe("home/kitchen/temp", identifier: 2)
        let (publisher, _) = try await TestMQTTClient.connect(port: harness.port, id: "pub")
        try await publisher.publish("home/kitchen/temp", "21", identifier: 1)
        try await publisher.publish("home/kitchen/light", "on", identifier: 2)
        try await publisher.publish("garden/temp", "12", identifier: 3)
        #expect(try await plus.nextPublish().payloadString == "21")
        // Two matching subscriptions of one client: one message (MQTT 5 §3.3.4).
        // Different topics may sit in different shards: no order between them.
        let forHash: Set = [try await hash.nextPublish().payloadString, try await hash.nextPublish().payloadString]
        #expect(forHash == ["21", "on"])
        try await plus.expectSilence()
        try await hash.expectSilence()
        await harness.stop()
    }

    @Test func retainedMessagesAreSetClearedAndDeliveredOnSubscribe() async throws {
        let harness = try await BrokerHarness.start()
        let (publisher, _) = try await TestMQTTClient.connect(port: harness.port, id: "pub")
        try await publisher.publish("status/a", "up", retain: true, identifier: 1)
        try await publisher.publish("status/b", "down", retain: true, identifier: 2)
        let (first, _) = try await TestMQTTClient.connect(port: harness.port, id: "first")
        _ = try await first.subscribe("status/+")
        var seen: [String: String] = [:]
        for _ in 0..<2 {
            let publish = try await first.nextPublish()
            #expect(publish.retain, "a retained message sent on subscribe has RETAIN set")
            seen[publish.topicName] = publish.payloadString
        }
        #expect(seen == ["status/a": "up", "status/b": "down"])
        // An empty retained payload clears the topic.
        try await publisher.publish("status/a", "", retain: true, identifier: 3)
        _ = try await first.nextPublish()
        let (second, _) = try await TestMQTTClient.connect(port: harness.port, id: "second")
        _ = try await second.subscribe("status/+")
        let only = try await second.nextPublish()
        #expect(only.topicName == "status/b" && only.payloadString == "down")
        try await second.expectSilence()
        await harness.stop()
    }

    @Test func aSecondConnectionTakesTheSessionOverWith0x8E() async throws {
        let harness = try await BrokerHarness.start()
        let (old, _) = try await TestMQTTClient.connect(port: harness.port, id: "twin")
        let (new, connack) = try await TestMQTTClient.connect(port: harness.port, id: "twin")
        #expect(connack.reasonCode == .success)
        let packet = try await old.next("DISCONNECT")
        guard case .disconnect(let disconnect) = packet else {
            Issue.record("expected DISCONNECT, got \(packet)")
            return
        }
        #expect(disconnect.reasonCode == .sessionTakenOver)
        #expect(await old.waitClosed())
        _ = try await new.subscribe("twin/t")
        let (publisher, _) = try await TestMQTTClient.connect(port: harness.port, id: "pub")
        try await publisher.publish("twin/t", "still here", identifier: 2)
        #expect(try await new.nextPublish().payloadString == "still here")
        await harness.stop()
    }

    @Test func aPersistentSessionResumesWithMessagesPublishedWhileOffline() async throws {
        let harness = try await BrokerHarness.start()
        let (client, _) = try await TestMQTTClient.connect(port: harness.port, id: "sleepy", clean: false, expiry: 300)
        _ = try await client.subscribe("news/#")
        try await client.disconnect()
        try await harness.waitUntilStored("sleepy")
        let (publisher, _) = try await TestMQTTClient.connect(port: harness.port, id: "pub")
        for index in 1...5 { try await publisher.publish("news/today", "n\(index)", identifier: UInt16(index)) }
        try await publisher.publish("other/x", "not subscribed", identifier: 9)
        let (back, connack) = try await TestMQTTClient.connect(port: harness.port, id: "sleepy", clean: false, expiry: 300)
        #expect(connack.sessionPresent)
        var payloads: [String] = []
        for _ in 1...5 { payloads.append(try await back.nextPublish().payloadString) }
        #expect(payloads == ["n1", "n2", "n3", "n4", "n5"])
        // Live delivery continues after the replay, without duplicates.
        try await publisher.publish("news/today", "n6", identifier: 6)
        #expect(try await back.nextPublish().payloadString == "n6")
        try await back.expectSilence()
        await harness.stop()
    }

    @Test func aV311PersistentSessionResumesToo() async throws {
        let harness = try await BrokerHarness.start()
        let (client, _) = try await TestMQTTClient.connect(port: harness.port, id: "legacy", version: .v3_1_1, clean: false)
        _ = try await client.subscribe("legacy/t")
        try await client.disconnect()
        try await harness.waitUntilStored("legacy")
        let (publisher, _) = try await TestMQTTClient.connect(port: harness.port, id: "pub")
        try await publisher.publish("legacy/t", "while away", identifier: 1)
        let (back, connack) = try await TestMQTTClient.connect(port: harness.port, id: "legacy", version: .v3_1_1, clean: false)
        #expect(connack.sessionPresent)
        #expect(try await back.nextPublish().payloadString == "while away")
        await harness.stop()
    }

    @Test func theWillIsPublishedOnAbnormalCloseButNotOnDisconnect() async throws {
        let harness = try await BrokerHarness.start()
        let (watcher, _) = try await TestMQTTClient.connect(port: harness.port, id: "watcher")
        _ = try await watcher.subscribe("wills/#")
        let will = MQTTWill(topic: "wills/polite", payload: ByteBuffer(string: "gone"), qos: .atLeastOnce)
        let (polite, _) = try await TestMQTTClient.connect(port: harness.port, id: "polite", will: will)
        try await polite.disconnect()
        let rude = MQTTWill(topic: "wills/rude", payload: ByteBuffer(string: "crashed"), qos: .atLeastOnce)
        let (crasher, _) = try await TestMQTTClient.connect(port: harness.port, id: "crasher", will: rude)
        await crasher.drop()
        let publish = try await watcher.nextPublish()
        #expect(publish.topicName == "wills/rude" && publish.payloadString == "crashed")
        try await watcher.expectSilence()
        await harness.stop()
    }

    @Test func sharedSubscriptionsTakeTurns() async throws {
        let harness = try await BrokerHarness.start()
        let (a, _) = try await TestMQTTClient.connect(port: harness.port, id: "member-a")
        _ = try await a.subscribe("$share/workers/jobs/#")
        let (b, _) = try await TestMQTTClient.connect(port: harness.port, id: "member-b")
        _ = try await b.subscribe("$share/workers/jobs/#")
        let (q, _) = try await TestMQTTClient.connect(port: harness.port, id: "queue-member")
        _ = try await q.subscribe("$queue/jobs/#")
        let (publisher, _) = try await TestMQTTClient.connect(port: harness.port, id: "pub")
        for index in 1...6 { try await publisher.publish("jobs/\(index)", "job\(index)", identifier: UInt16(index)) }
        var byA: [String] = []
        var byB: [String] = []
        for _ in 0..<3 { byA.append(try await a.nextPublish().payloadString) }
        for _ in 0..<3 { byB.append(try await b.nextPublish().payloadString) }
        #expect(Set(byA + byB) == Set((1...6).map { "job\($0)" }), "each message to exactly one member")
        #expect(byA.count == 3 && byB.count == 3, "round robin: 3 each")
        // `$queue/` is its own group: its one member gets every message.
        var queued: [String] = []
        for _ in 0..<6 { queued.append(try await q.nextPublish().payloadString) }
        #expect(Set(queued) == Set((1...6).map { "job\($0)" }))
        try await a.expectSilence()
        try await b.expectSilence()
        await harness.stop()
    }

    @Test func delayedPublicationsArriveAfterTheirDelay() async throws {
        let harness = try await BrokerHarness.start()
        let (subscriber, _) = try await TestMQTTClient.connect(port: harness.port, id: "waiter")
        _ = try await subscriber.subscribe("later/#")
        let (publisher, _) = try await TestMQTTClient.connect(port: harness.port, id: "pub")
        let sent = ContinuousClock.now
        #expect(try await publisher.publish("$delayed/1/later/x", "delayed") == .success)
        let publish = try await subscriber.nextPublish()
        #expect(publish.topicName == "later/x" && publish.payloadString == "delayed")
        #expect(ContinuousClock.now - sent >= .milliseconds(900), "published after about a second, not at once")
        await harness.stop()
    }

    @Test func aDelayedPublicationSurvivesARestart() async throws {
        let harness = try await BrokerHarness.start()
        let (publisher, _) = try await TestMQTTClient.connect(port: harness.port, id: "pub")
        #expect(try await publisher.publish("$delayed/2/restart/x", "kept in meta", retain: true) == .success)
        let restarted = try await harness.restart()
        let (subscriber, _) = try await TestMQTTClient.connect(port: restarted.port, id: "late")
        _ = try await subscriber.subscribe("restart/x")
        // Published (retained) by the restarted broker when due: delivered live or as retained.
        let publish = try await subscriber.nextPublish()
        #expect(publish.topicName == "restart/x" && publish.payloadString == "kept in meta")
        await restarted.stop()
    }

    @Test func sysTopicsArePublishedAndRetained() async throws {
        let harness = try await BrokerHarness.start(sysInterval: 1)
        let (client, _) = try await TestMQTTClient.connect(port: harness.port, id: "observer")
        _ = try await client.subscribe("$SYS/broker/#")
        var topics: Set<String> = []
        while topics.count < 7 {
            topics.insert(try await client.nextPublish().topicName)
        }
        #expect(topics.isSuperset(of: ["$SYS/broker/version", "$SYS/broker/uptime", "$SYS/broker/clients/connected",
                                       "$SYS/broker/messages/received", "$SYS/broker/messages/sent",
                                       "$SYS/broker/bytes/received", "$SYS/broker/bytes/sent"]))
        // A client cannot publish there.
        let (intruder, _) = try await TestMQTTClient.connect(port: harness.port, id: "intruder")
        #expect(try await intruder.publish("$SYS/broker/version", "fake") == .notAuthorized)
        await harness.stop()
    }

    @Test func aClientWithoutIdentifierGetsOneAndItsMessages() async throws {
        let harness = try await BrokerHarness.start()
        let (anonymous, connack) = try await TestMQTTClient.connect(port: harness.port, id: "")
        let assigned = try #require(connack.properties.assignedClientIdentifier)
        #expect(!assigned.isEmpty)
        _ = try await anonymous.subscribe("hello/+")
        let (publisher, _) = try await TestMQTTClient.connect(port: harness.port, id: "pub")
        try await publisher.publish("hello/world", "hi")
        let publish = try await anonymous.nextPublish()
        #expect(publish.topicName == "hello/world" && publish.payloadString == "hi")
        await harness.stop()
    }

    @Test func connectionsBeyondTheLimitGetQuotaExceeded() async throws {
        let harness = try await BrokerHarness.start(maximumConnections: 1)
        let (first, _) = try await TestMQTTClient.connect(port: harness.port, id: "first")
        let (_, refused) = try await TestMQTTClient.connect(port: harness.port, id: "second")
        #expect(refused.reasonCode == .quotaExceeded)
        try await first.disconnect()
        await harness.stop()
    }

    @Test func retainedMessagesAndStoredSessionsSurviveARestart() async throws {
        let harness = try await BrokerHarness.start()
        let (client, _) = try await TestMQTTClient.connect(port: harness.port, id: "durable-session", clean: false, expiry: 600)
        _ = try await client.subscribe("keep/#")
        try await client.disconnect()
        try await harness.waitUntilStored("durable-session")
        let (publisher, _) = try await TestMQTTClient.connect(port: harness.port, id: "pub")
        try await publisher.publish("keep/retained", "kept", retain: true, identifier: 1)
        try await publisher.publish("keep/queued", "queued", identifier: 2)
        try await publisher.disconnect()
        let restarted = try await harness.restart()
        let (back, connack) = try await TestMQTTClient.connect(port: restarted.port, id: "durable-session", clean: false, expiry: 600)
        #expect(connack.sessionPresent)
        let replayed: Set = [try await back.nextPublish().payloadString, try await back.nextPublish().payloadString]
        #expect(replayed == ["kept", "queued"], "both were published while the session was offline")
        let (fresh, _) = try await TestMQTTClient.connect(port: restarted.port, id: "fresh")
        _ = try await fresh.subscribe("keep/#")
        let retained = try await fresh.nextPublish()
        #expect(retained.retain && retained.payloadString == "kept")
        await restarted.stop()
    }
}
