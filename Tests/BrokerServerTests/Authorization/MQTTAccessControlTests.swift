import Foundation
import Logging
import MetaService
import Shared
import Testing

@testable import BrokerServer

/// `access.allows(…)` outside `#expect` (which cannot call mutating methods).
func allowed(_ access: inout MQTTConnectionAccess, _ action: ACLRequest.Action, topic: String, qos: UInt8, retain: Bool = false) -> Bool {
    access.allows(action, topic: topic, qos: qos, retain: retain)
}

@Suite("MQTTAccessControl")
struct MQTTAccessControlTests {
    static let logger = Logger(label: "test")

    @Test func connectRateRefusesBeyondTheBurst() {
        let control = MQTTAccessControl(configuration: MQTTAccessConfiguration(connectRate: 1, connectBurst: 3), logger: Self.logger)
        let verdicts = (0..<5).map { control.admitConnect(clientID: "c\($0)", username: nil, peer: nil) }
        #expect(verdicts == [nil, nil, nil, .connectionRateExceeded, .connectionRateExceeded])
    }

    @Test func bansRefuseClientIDsUsersAndNetworksUntilTheyExpire() throws {
        let control = MQTTAccessControl(configuration: MQTTAccessConfiguration(), logger: Self.logger)
        let past = Date().addingTimeInterval(-1)
        control.setBans([
            Blacklist.Entry(target: .clientID("bad"), expiresAt: nil),
            Blacklist.Entry(target: .username("mallory"), expiresAt: Date().addingTimeInterval(3600)),
            Blacklist.Entry(target: .network(try #require(IPNetwork("192.0.2.0/24"))), expiresAt: nil),
            Blacklist.Entry(target: .clientID("expired"), expiresAt: past),
        ])
        #expect(control.admitConnect(clientID: "bad", username: nil, peer: nil) == .banned)
        #expect(control.admitConnect(clientID: "ok", username: "mallory", peer: nil) == .banned)
        #expect(control.admitConnect(clientID: "ok", username: "alice", peer: IPAddress("192.0.2.77")) == .banned)
        #expect(control.admitConnect(clientID: "ok", username: "alice", peer: IPAddress("::ffff:192.0.2.77")) == .banned)
        #expect(control.admitConnect(clientID: "ok", username: "alice", peer: IPAddress("198.51.100.1")) == nil)
        #expect(control.admitConnect(clientID: "expired", username: nil, peer: nil) == nil)
        control.setBans([])
        #expect(control.admitConnect(clientID: "bad", username: nil, peer: nil) == nil)
    }

    @Test func flappingClientsAreBannedOthersAreNot() {
        let flapping = MQTTAccessConfiguration.Flapping(maximumConnects: 2, window: .seconds(60), banDuration: .seconds(60))
        let control = MQTTAccessControl(configuration: MQTTAccessConfiguration(flapping: flapping), logger: Self.logger)
        #expect(control.admitConnect(clientID: "f", username: nil, peer: nil) == nil)
        #expect(control.admitConnect(clientID: "f", username: nil, peer: nil) == nil)
        #expect(control.admitConnect(clientID: "f", username: nil, peer: nil) == .banned)
        #expect(control.admitConnect(clientID: "f", username: nil, peer: nil) == .banned)
        #expect(control.admitConnect(clientID: "g", username: nil, peer: nil) == nil)
        // Server-assigned identifiers (empty client id) are not tracked.
        for _ in 0..<5 { #expect(control.admitConnect(clientID: "", username: nil, peer: nil) == nil) }
    }

    @Test func ruleChangesReachExistingConnectionsThroughTheGeneration() {
        let control = MQTTAccessControl(configuration: MQTTAccessConfiguration(noMatch: .deny), logger: Self.logger)
        var access = MQTTConnectionAccess(control: control, username: "alice", clientID: "c1", peer: IPAddress("127.0.0.1"), now: 0)
        #expect(!allowed(&access, .publish, topic: "users/alice/x", qos: 1))
        control.setRules(["default": [ACLRule(priority: 1, permission: .allow, action: .all, topicFilter: "users/%u/#")]])
        #expect(allowed(&access, .publish, topic: "users/alice/x", qos: 1))
        #expect(!allowed(&access, .publish, topic: "users/bob/x", qos: 1))
        #expect(allowed(&access, .subscribe, topic: "users/alice/#", qos: 2))
        control.setRules([:])
        #expect(!allowed(&access, .publish, topic: "users/alice/x", qos: 1))
        // Another tenant's rules never apply.
        control.setRules(["other": [ACLRule(priority: 1, permission: .allow, action: .all, topicFilter: "#")]])
        #expect(!allowed(&access, .publish, topic: "users/alice/x", qos: 1))
    }

    @Test func tokenRulesDecideFirstThenTheTenantRules() {
        let control = MQTTAccessControl(configuration: MQTTAccessConfiguration(noMatch: .deny), logger: Self.logger)
        control.setRules(["default": [ACLRule(priority: 1, permission: .allow, action: .all, topicFilter: "shared/#")]])
        var access = MQTTConnectionAccess(control: control, username: "dev", clientID: "c", peer: nil, now: 0)
        access.setTokenRules([
            JWTACLEntry(permission: .deny, action: .publish, topic: "shared/locked"),
            JWTACLEntry(permission: .allow, action: .publish, topic: "devices/c/#", qos: [0, 1]),
        ])
        #expect(allowed(&access, .publish, topic: "devices/c/state", qos: 1))
        #expect(!allowed(&access, .publish, topic: "devices/c/state", qos: 2))
        #expect(!allowed(&access, .publish, topic: "shared/locked", qos: 0))
        #expect(allowed(&access, .publish, topic: "shared/open", qos: 0))
        #expect(!allowed(&access, .publish, topic: "elsewhere", qos: 0))
        access.setTokenRules([])
        #expect(allowed(&access, .publish, topic: "shared/locked", qos: 0))
    }

    @Test func superusersBypassRules() {
        let control = MQTTAccessControl(configuration: MQTTAccessConfiguration(noMatch: .deny), logger: Self.logger)
        var access = MQTTConnectionAccess(control: control, username: "root", isSuperuser: true, clientID: "c", peer: nil, now: 0)
        #expect(allowed(&access, .publish, topic: "anything", qos: 2, retain: true))
        // Re-authenticated as an ordinary user of another tenant: rules apply again.
        control.setRules(["acme": [ACLRule(priority: 1, permission: .allow, action: .all, topicFilter: "acme/#")]])
        access.reidentify(tenant: "acme", username: "joe", isSuperuser: false, tokenRules: [])
        #expect(!allowed(&access, .publish, topic: "anything", qos: 0))
        #expect(allowed(&access, .publish, topic: "acme/x", qos: 0))
    }

    @Test func messageRateAdmitsTheBurstThenRefuses() {
        let control = MQTTAccessControl(configuration: MQTTAccessConfiguration(messageRate: 10, messageBurst: 3), logger: Self.logger)
        var access = MQTTConnectionAccess(control: control, username: nil, clientID: "c", peer: nil, now: 0)
        let burst = (0..<4).map { _ in access.admitPublish(now: 0) }
        #expect(burst == [true, true, true, false])
        let later = access.admitPublish(now: 100_000_000)
        #expect(later)
        var unlimited = MQTTConnectionAccess(
            control: MQTTAccessControl(configuration: MQTTAccessConfiguration(), logger: Self.logger),
            username: nil, clientID: "c", peer: nil, now: 0)
        let all = (0..<1000).map { _ in unlimited.admitPublish(now: 0) }
        #expect(all.allSatisfy { $0 })
    }

    @Test func theBrokerCheckOnlyRefusesSYS() {
        let control = MQTTAccessControl(configuration: MQTTAccessConfiguration(noMatch: .deny), logger: Self.logger)
        #expect(!control.mayPublish(clientIdentifier: "c", userName: nil, topic: "$SYS/broker/x"))
        #expect(control.mayPublish(clientIdentifier: "c", userName: nil, topic: "a"))
    }
}
