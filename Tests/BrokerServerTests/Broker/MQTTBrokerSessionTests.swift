import MetaService
import NIOCore
import Testing

@testable import BrokerServer

/// Session lifecycles through the broker: queued messages across an offline period, will
/// delay, expiry, keep alive, authentication and shutdown.
@Suite("MQTT broker sessions", .serialized)
struct MQTTBrokerSessionTests {
    /// Messages queued behind a full in-flight window (Receive Maximum 1) when the connection
    /// drops are neither lost nor duplicated: the in-flight one is retransmitted, the queued
    /// ones are replayed from the journal.
    @Test func queuedMessagesSurviveADroppedConnection() async throws {
        let harness = try await BrokerHarness.start()
        let (slow, _) = try await TestMQTTClient.connect(port: harness.port, id: "slow", clean: false, expiry: 300, receiveMaximum: 1)
        _ = try await slow.subscribe("work/item")
        let (publisher, _) = try await TestMQTTClient.connect(port: harness.port, id: "pub")
        for index in 1...4 { try await publisher.publish("work/item", "w\(index)", identifier: UInt16(index)) }
        // Take the first without acknowledging it: the other three wait behind the window.
        let first = try await slow.next("PUBLISH")
        guard case .publish(let unacknowledged) = first else {
            Issue.record("expected PUBLISH, got \(first)")
            return
        }
        #expect(unacknowledged.payloadString == "w1")
        try await slow.expectSilence(for: .milliseconds(200))
        await slow.drop()
        try await harness.waitUntilStored("slow")

        let (back, connack) = try await TestMQTTClient.connect(port: harness.port, id: "slow", clean: false, expiry: 300)
        #expect(connack.sessionPresent)
        let again = try await back.nextPublish()
        #expect(again.dup && again.payloadString == "w1", "the in-flight message is retransmitted with DUP")
        var rest: [String] = []
        for _ in 0..<3 { rest.append(try await back.nextPublish().payloadString) }
        #expect(rest == ["w2", "w3", "w4"])
        try await back.expectSilence()
        await harness.stop()
    }

    /// A resumed session replays what was published while it was away, not what was published
    /// before it subscribed.
    @Test func aResumedSessionGetsNothingPublishedBeforeItSubscribed() async throws {
        let harness = try await BrokerHarness.start()
        let (client, _) = try await TestMQTTClient.connect(port: harness.port, id: "careful", clean: false, expiry: 300)
        _ = try await client.subscribe("first/topic")
        let (witness, _) = try await TestMQTTClient.connect(port: harness.port, id: "witness")
        _ = try await witness.subscribe("second/topic")
        let (publisher, _) = try await TestMQTTClient.connect(port: harness.port, id: "pub")
        try await publisher.publish("second/topic", "before")
        // Routed (the witness has it) before the client subscribes.
        #expect(try await witness.nextPublish().payloadString == "before")
        _ = try await client.subscribe("second/topic", identifier: 2)
        try await client.disconnect()
        try await harness.waitUntilStored("careful")
        try await publisher.publish("second/topic", "after", identifier: 2)
        let (back, connack) = try await TestMQTTClient.connect(port: harness.port, id: "careful", clean: false, expiry: 300)
        #expect(connack.sessionPresent)
        #expect(try await back.nextPublish().payloadString == "after")
        try await back.expectSilence()
        await harness.stop()
    }

    /// Reconnecting right after DISCONNECT resumes the session even while it is still being
    /// written to meta.
    @Test func anImmediateReconnectResumesTheSession() async throws {
        let harness = try await BrokerHarness.start()
        for round in 1...5 {
            let (client, connack) = try await TestMQTTClient.connect(port: harness.port, id: "bouncer", clean: false, expiry: 300)
            #expect(connack.sessionPresent == (round > 1), "round \(round)")
            if round == 1 { _ = try await client.subscribe("bounce/#") }
            try await client.disconnect()
        }
        let (last, connack) = try await TestMQTTClient.connect(port: harness.port, id: "bouncer", clean: false, expiry: 300)
        #expect(connack.sessionPresent)
        let (publisher, _) = try await TestMQTTClient.connect(port: harness.port, id: "pub")
        try await publisher.publish("bounce/x", "still subscribed")
        #expect(try await last.nextPublish().payloadString == "still subscribed")
        await harness.stop()
    }

    @Test func aDelayedWillIsCancelledWhenTheSessionResumesInTime() async throws {
        let harness = try await BrokerHarness.start()
        let (watcher, _) = try await TestMQTTClient.connect(port: harness.port, id: "watcher")
        _ = try await watcher.subscribe("wills/#")
        var properties = MQTTProperties()
        properties.willDelayInterval = 2
        let will = MQTTWill(topic: "wills/flaky", payload: ByteBuffer(string: "lost"), qos: .atLeastOnce, properties: properties)
        let (flaky, _) = try await TestMQTTClient.connect(port: harness.port, id: "flaky", clean: false, expiry: 60, will: will)
        await flaky.drop()
        try await harness.waitUntilStored("flaky")
        let (back, connack) = try await TestMQTTClient.connect(port: harness.port, id: "flaky", clean: false, expiry: 60)
        #expect(connack.sessionPresent)
        try await watcher.expectSilence(for: .seconds(3))
        try await back.disconnect()

        // Without a resume, the will follows after its delay.
        let (gone, _) = try await TestMQTTClient.connect(port: harness.port, id: "gone", clean: false, expiry: 60, will: will)
        let dropped = ContinuousClock.now
        await gone.drop()
        let publish = try await watcher.nextPublish()
        #expect(publish.topicName == "wills/flaky" && publish.payloadString == "lost")
        #expect(ContinuousClock.now - dropped >= .milliseconds(1900))
        await harness.stop()
    }

    /// A long absence replays into the session's bounded queue: the oldest are dropped.
    @Test func anOfflineBacklogIsCappedByTheQueueKeepingTheNewest() async throws {
        let harness = try await BrokerHarness.start(maximumQueuedMessages: 3)
        let (client, _) = try await TestMQTTClient.connect(port: harness.port, id: "capped", clean: false, expiry: 300)
        _ = try await client.subscribe("backlog/t")
        try await client.disconnect()
        try await harness.waitUntilStored("capped")
        let (publisher, _) = try await TestMQTTClient.connect(port: harness.port, id: "pub")
        for index in 1...10 { try await publisher.publish("backlog/t", "b\(index)", identifier: UInt16(index)) }
        let (back, _) = try await TestMQTTClient.connect(port: harness.port, id: "capped", clean: false, expiry: 300, receiveMaximum: 1)
        var received: [String] = []
        for _ in 0..<4 { received.append(try await back.nextPublish().payloadString) }
        // One in flight, then the three newest that fit the queue.
        #expect(received == ["b1", "b8", "b9", "b10"])
        try await back.expectSilence()
        await harness.stop()
    }

    @Test func storedSessionsExpireAfterARestartToo() async throws {
        let harness = try await BrokerHarness.start()
        let (client, _) = try await TestMQTTClient.connect(port: harness.port, id: "short-lived", clean: false, expiry: 2)
        try await client.disconnect()
        try await harness.waitUntilStored("short-lived")
        let restarted = try await harness.restart()
        let deadline = ContinuousClock.now + .seconds(20)
        var present = true
        while ContinuousClock.now < deadline {
            present = try await restarted.metaClient.get(MQTTStoredSession.key(of: "short-lived")).keyValue != nil
            if !present { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(!present, "the restarted broker re-armed the expiry and deleted the session")
        await restarted.stop()
    }

    @Test func anExpiredSessionIsForgotten() async throws {
        let harness = try await BrokerHarness.start()
        let (client, _) = try await TestMQTTClient.connect(port: harness.port, id: "brief", clean: false, expiry: 1)
        _ = try await client.subscribe("brief/#")
        try await client.disconnect()
        try await harness.waitUntilStored("brief")
        let deadline = ContinuousClock.now + .seconds(20)
        while try await harness.metaClient.get(MQTTStoredSession.key(of: "brief")).keyValue != nil {
            #expect(ContinuousClock.now < deadline, "the stored session was not deleted after its expiry")
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let (back, connack) = try await TestMQTTClient.connect(port: harness.port, id: "brief", clean: false, expiry: 1)
        #expect(!connack.sessionPresent)
        try await back.disconnect()
        await harness.stop()
    }

    @Test func aSilentClientIsDisconnectedAfterOneAndAHalfKeepAlives() async throws {
        let harness = try await BrokerHarness.start()
        let (client, _) = try await TestMQTTClient.connect(port: harness.port, id: "silent", keepAlive: 1)
        let started = ContinuousClock.now
        let packet = try await client.next("DISCONNECT", timeout: .seconds(10))
        guard case .disconnect(let disconnect) = packet else {
            Issue.record("expected DISCONNECT, got \(packet)")
            return
        }
        #expect(disconnect.reasonCode == .keepAliveTimeout)
        #expect(ContinuousClock.now - started >= .milliseconds(1400))
        #expect(await client.waitClosed())
        await harness.stop()
    }

    @Test func anonymousClientsAreRefusedWhenNotAllowed() async throws {
        let harness = try await BrokerHarness.start(allowAnonymous: false)
        let (anonymous, refused) = try await TestMQTTClient.connect(port: harness.port, id: "nobody")
        #expect(refused.reasonCode == .notAuthorized)
        #expect(await anonymous.waitClosed())
        let (_, legacy) = try await TestMQTTClient.connect(port: harness.port, id: "old-nobody", version: .v3_1_1)
        #expect(legacy.reasonCode == .notAuthorized, "3.1.1 return code 5")
        let (named, accepted) = try await TestMQTTClient.connect(port: harness.port, id: "somebody", userName: "alice")
        #expect(accepted.reasonCode == .success)
        try await named.disconnect()
        await harness.stop()
    }

    @Test func shutdownDisconnectsWith0x8BAndStoresSessions() async throws {
        let harness = try await BrokerHarness.start()
        let (client, _) = try await TestMQTTClient.connect(port: harness.port, id: "stayer", clean: false, expiry: 600)
        _ = try await client.subscribe("stay/#")
        let restarted = try await harness.restart()
        let packet = try await client.next("DISCONNECT")
        guard case .disconnect(let disconnect) = packet else {
            Issue.record("expected DISCONNECT, got \(packet)")
            return
        }
        #expect(disconnect.reasonCode == .serverShuttingDown)
        let (back, connack) = try await TestMQTTClient.connect(port: restarted.port, id: "stayer", clean: false, expiry: 600)
        #expect(connack.sessionPresent, "the session was stored during shutdown")
        let (publisher, _) = try await TestMQTTClient.connect(port: restarted.port, id: "pub")
        try await publisher.publish("stay/x", "after restart")
        #expect(try await back.nextPublish().payloadString == "after restart")
        await restarted.stop()
    }
}
