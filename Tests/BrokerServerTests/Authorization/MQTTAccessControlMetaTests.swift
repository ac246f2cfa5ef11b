import Foundation
import Logging
import MetaService
import Shared
import Testing

@testable import BrokerServer

/// ``MQTTAccessControl`` following a real single-voter meta node: rules and bans present at start
/// are loaded, later puts and deletes arrive through the watch (no polling) and reach an existing
/// connection's decision cache.
@Suite("MQTTAccessControl over meta", .serialized)
struct MQTTAccessControlMetaTests {
    @Test func loadsAndFollowsRulesAndBans() async throws {
        let harness = try await BrokerHarness.start()
        let meta = harness.metaClient
        let early = ACLRecord(id: "early", priority: 1, permission: .allow, action: .publish, topic: "early/#")
        _ = try await meta.put(early.key, early.encoded())
        let ban = try BlacklistRecord(kind: .clientid, value: "bad")
        _ = try await meta.put(ban.key, ban.encoded())
        _ = try await meta.put(ACLRecord.prefix + "default/000002-broken", Array("not json".utf8))

        let control = MQTTAccessControl(configuration: MQTTAccessConfiguration(noMatch: .deny), logger: Logger(label: "test"))
        await control.start(broker: harness.broker, meta: meta)
        var access = MQTTConnectionAccess(control: control, username: "u", clientID: "c", peer: nil, now: 0)
        #expect(allowed(&access, .publish, topic: "early/x", qos: 0))
        #expect(!allowed(&access, .publish, topic: "late/x", qos: 0))
        #expect(control.admitConnect(clientID: "bad", username: nil, peer: nil) == .banned)

        let late = ACLRecord(id: "late", priority: 3, permission: .allow, action: .publish, topic: "late/#")
        _ = try await meta.put(late.key, late.encoded())
        #expect(await eventually { access.allows(.publish, topic: "late/x", qos: 0) })
        _ = try await meta.delete(early.key)
        #expect(await eventually { !access.allows(.publish, topic: "early/x", qos: 0) })
        _ = try await meta.delete(ban.key)
        #expect(await eventually { control.admitConnect(clientID: "bad", username: nil, peer: nil) == nil })

        control.stop()
        await harness.stop()
    }

    /// Polls `condition` every 20 ms for up to 20 s.
    func eventually(_ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}
