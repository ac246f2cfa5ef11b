import Foundation
import Testing

/// Bans end to end: `tributary ctl blacklist` against a standalone node, paho and hand-made
/// CONNECTs (tests/paho/authz.py): refused at CONNECT, disconnected when banned while connected,
/// TTLs, flapping detection, and clear errors for bad input.
@Suite("Blacklist and flapping on a standalone node", .serialized)
struct BlacklistProcessTests {
    @Test func bannedClientsAreRefusedAndDisconnected() async throws {
        let node = try await ACLTestNode.start()
        try await node.ctlOK(["blacklist", "add", "clientid", "banned-client", "--reason", "test"])
        try await node.ctlOK(["blacklist", "add", "user", "banned-user"])
        let script = try AuthzScript(port: node.mqttPort, phase: "banned")
        #expect(await script.waitFor("ban-victim"), "\(script.text)")
        try await node.ctlOK(["blacklist", "add", "clientid", "victim", "--ttl", "600"])
        script.proceed()
        #expect(await script.waitFor("ban-network"), "\(script.text)")
        try await node.ctlOK(["blacklist", "add", "cidr", "127.0.0.1/8"])
        script.proceed()
        #expect(await script.succeeded(), "\(script.text)\nnode stderr: \(node.node.standardError)")
        let listed = try await node.ctl(["blacklist", "list"])
        #expect(listed.output.contains("clientid banned-client permanent reason=test"), "\(listed.output)")
        #expect(listed.output.contains("clientid victim expires-in="), "\(listed.output)")
        #expect(listed.output.contains("cidr 127.0.0.0/8 permanent"), "\(listed.output)")
        try await node.ctlOK(["blacklist", "delete", "cidr", "127.0.0.0/8"])
        let after = try await node.ctl(["blacklist", "list"])
        #expect(!after.output.contains("cidr"), "\(after.output)")
        await node.stop()
    }

    @Test func aBanWithATTLEnds() async throws {
        let node = try await ACLTestNode.start()
        try await node.ctlOK(["blacklist", "add", "user", "brief", "--ttl", "2"])
        let listed = try await node.ctl(["blacklist", "list"])
        #expect(listed.output.contains("user brief expires-in="), "\(listed.output)")
        // The lease deletes the record once the TTL passes.
        let gone = await eventually(timeout: .seconds(30)) {
            let key = try? await node.ctl(["kv", "get", "/security/blacklist/user/brief"])
            return key?.status == 1
        }
        #expect(gone)
        await node.stop()
    }

    @Test func badBansAreRefusedWithTheProblem() async throws {
        let node = try await ACLTestNode.start()
        let cases: [([String], String)] = [
            (["add", "cidr", "10.0.0.0/40"], "invalid network '10.0.0.0/40'"),
            (["add", "host", "x"], "kind must be clientid, user or cidr"),
            (["add", "user", "x", "--ttl", "0"], "--ttl must be a positive number of seconds"),
        ]
        for (arguments, message) in cases {
            let (status, output) = try await node.ctl(["blacklist"] + arguments)
            #expect(status != 0 && output.contains(message), "\(arguments): status \(status): \(output)")
        }
        let missing = try await node.ctl(["blacklist", "delete", "user", "nobody"])
        #expect(missing.status == 1 && missing.output.contains("no ban /security/blacklist/user/nobody"), "\(missing.output)")
        await node.stop()
    }

    @Test func flappingClientsAreBanned() async throws {
        let node = try await ACLTestNode.start(environment: [
            "TRIBUTARY_MQTT_FLAPPING_ENABLED": "true", "TRIBUTARY_MQTT_FLAPPING_MAX_CONNECTS": "3",
            "TRIBUTARY_MQTT_FLAPPING_WINDOW": "60",
        ])
        let script = try AuthzScript(port: node.mqttPort, phase: "flapping")
        #expect(await script.succeeded(), "\(script.text)\nnode stderr: \(node.node.standardError)")
        await node.stop()
    }
}
