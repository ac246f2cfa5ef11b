import Foundation
import MetaService
import Shared
import Testing

@Suite("ACL and blacklist records")
struct ACLRecordTests {
    @Test func keysSortInPriorityOrder() {
        let keys = [5, 1000, 40, 999_999, 0].map {
            ACLRecord(id: "r\($0)", priority: $0, permission: .allow, action: .all, topic: "#").key
        }
        #expect(keys.sorted() == [
            "/security/acl/default/000000-r0", "/security/acl/default/000005-r5", "/security/acl/default/000040-r40",
            "/security/acl/default/001000-r1000", "/security/acl/default/999999-r999999",
        ])
    }

    @Test func roundTripsIntoAnEquivalentRule() throws {
        let record = ACLRecord(
            id: "lan", priority: 7, permission: .deny, action: .publish, topic: "lan/%c/#", user: "alice",
            sources: ["10.1.2.3/8"], qos: [0, 1], retain: true, createdBy: "ops@host", createdAtMillis: 1)
        let decoded = try ACLRecord(decoding: record.encoded())
        #expect(decoded == record)
        let rule = try decoded.rule()
        #expect(rule.priority == 7 && rule.permission == .deny && rule.subject == .user("alice") && rule.action == .publish)
        #expect(rule.sources == [try #require(IPNetwork("10.0.0.0/8"))] && rule.qos == [0, 1] && rule.retain == .retained)
        var engine = ACLEngine(defaultPermission: .allow)
        engine.add(rule, tenant: "default")
        let request = ACLRequest(
            tenant: "default", username: "alice", clientID: "c1", peerAddress: IPAddress("10.9.9.9"), action: .publish,
            topic: "lan/c1/x", qos: 1, retain: true)
        #expect(!engine.authorize(request).isAllowed)
    }

    @Test func refusesBadFieldsWithTheProblem() {
        func problem(_ change: (inout ACLRecord) -> Void) -> ACLRecordError? {
            var record = ACLRecord(id: "x", priority: 1, permission: .allow, action: .all, topic: "a/b")
            change(&record)
            do {
                try record.validate()
                return nil
            } catch {
                return error
            }
        }
        #expect(problem { _ in } == nil)
        #expect(problem { $0.topic = "a/#/b" } == .invalidTopicFilter("a/#/b", "not a valid MQTT topic filter"))
        #expect(problem { $0.topic = "a+/b" } == .invalidTopicFilter("a+/b", "not a valid MQTT topic filter"))
        #expect(problem { $0.topic = "" } == .invalidTopicFilter("", "not a valid MQTT topic filter"))
        #expect(problem { $0.topic = "a/x%u" } == .invalidTopicFilter("a/x%u", "%u and %c must each be a whole topic level"))
        #expect(problem { $0.sources = ["10.0.0.0/33"] } == .invalidSource("10.0.0.0/33"))
        #expect(problem { $0.sources = ["example.com"] } == .invalidSource("example.com"))
        #expect(problem { $0.priority = -1 } == .invalidPriority(-1))
        #expect(problem { $0.tenant = "a/b" } == .invalidTenant("a/b"))
        #expect(problem { $0.id = "" } == .invalidID(""))
        #expect(problem { $0.user = "u"; $0.clientID = "c" } == .conflictingSubjects)
        #expect(problem { $0.qos = [3] } == .invalidQoS([3]))
        #expect(problem { $0.action = .subscribe; $0.retain = true } == .retainOnSubscribe)
        #expect(throws: ACLRecordError.self) { try ACLRecord(decoding: Array("not json".utf8)) }
    }

    @Test func blacklistRecordsNormalizeNetworksAndCarryTheirExpiry() throws {
        let network = try BlacklistRecord(kind: .cidr, value: "192.0.2.77/24", expiresAtMillis: 2_000)
        #expect(network.value == "192.0.2.0/24" && network.key == "/security/blacklist/cidr/192.0.2.0/24")
        let entry = network.entry
        #expect(entry.target == .network(try #require(IPNetwork("192.0.2.0/24"))))
        #expect(entry.isActive(at: Date(timeIntervalSince1970: 1.999)) && !entry.isActive(at: Date(timeIntervalSince1970: 2)))
        #expect(try BlacklistRecord(decoding: network.encoded()) == network)
        #expect(try BlacklistRecord(kind: .user, value: "mallory").entry.target == .username("mallory"))
        #expect(throws: BlacklistRecordError.invalidValue(.cidr, "10.0.0.0/40")) { try BlacklistRecord(kind: .cidr, value: "10.0.0.0/40") }
        #expect(throws: BlacklistRecordError.invalidValue(.clientid, "")) { try BlacklistRecord(kind: .clientid, value: "") }
    }
}
