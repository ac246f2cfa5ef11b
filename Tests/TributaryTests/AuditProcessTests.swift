import Foundation
import Testing

/// The audit log of a standalone node: `<data-dir>/audit.log` holds one JSON object per line
/// for ACL and blacklist changes (as the broker applies them), refused authentications (never
/// the password) and refused CONNECTs.
@Suite("Audit log of a standalone node", .serialized)
struct AuditProcessTests {
    @Test func changesAndRefusalsAreAudited() async throws {
        let node = try await ACLTestNode.start(environment: ["TRIBUTARY_MQTT_ALLOW_ANONYMOUS": "false"])
        let path = try #require(node.node.dataDirectory) + "/audit.log"
        try await node.ctlOK(["acl", "add", "--allow", "--topic", "audit/#", "--id", "audited"])
        try await node.ctlOK(["blacklist", "add", "clientid", "audit-banned"])
        // The ban is applied through the broker's watch before the script connects.
        let applied = await eventually(timeout: .seconds(30)) {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").contains("/security/blacklist/clientid/audit-banned")
        }
        #expect(applied)
        let script = try AuthzScript(port: node.mqttPort, phase: "audit")
        #expect(await script.succeeded(), "\(script.text)\nnode stderr: \(node.node.standardError)")
        try await node.ctlOK(["acl", "delete", "audited"])
        let expected = ["\"event\":\"acl.put\"", "\"event\":\"blacklist.put\"", "\"event\":\"auth.failure\"", "\"event\":\"connect.refused\"", "\"event\":\"acl.delete\""]
        let complete = await eventually(timeout: .seconds(30)) {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return expected.allSatisfy { text.contains($0) }
        }
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        #expect(complete, "\(text)")
        #expect(!text.contains("hunter2"), "the password was logged: \(text)")
        var events: [[String: String]] = []
        for line in text.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
            events.append(try #require(object, "not a JSON object of strings: \(line)"))
        }
        let failure = try #require(events.first { $0["event"] == "auth.failure" })
        #expect(failure["client_id"] == "audit-anon" && failure["reason"] == "notAuthorized" && failure["peer"] != nil, "\(failure)")
        let refused = try #require(events.first { $0["event"] == "connect.refused" })
        #expect(refused["client_id"] == "audit-banned" && refused["user"] == "mallory" && refused["reason"] == "banned", "\(refused)")
        let put = try #require(events.first { $0["event"] == "acl.put" })
        #expect(put["key"] == "/security/acl/default/001000-audited" && put["record"]?.contains("\"createdBy\"") == true, "\(put)")
        #expect(events.allSatisfy { $0["time"] != nil })
        await node.stop()
    }
}
