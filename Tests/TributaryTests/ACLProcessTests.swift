import Foundation
import Testing

/// Authorization end to end: rules added with `tributary ctl acl`, enforced by a standalone
/// node on paho-mqtt clients (tests/paho/authz.py) — every deny path and the allowed ones, for
/// MQTT 3.1.1 and 5.0, and rules changing under connected clients.
@Suite("ACL rules enforced on paho clients", .serialized)
struct ACLProcessTests {
    static let rules: [[String]] = [
        ["--deny", "--action", "publish", "--topic", "sensors/secret", "--priority", "5", "--id", "no-secret"],
        ["--allow", "--topic", "users/%u/#", "--priority", "10", "--id", "own-user"],
        ["--allow", "--topic", "clients/%c/#", "--priority", "20", "--id", "own-client"],
        ["--allow", "--action", "publish", "--topic", "sensors/#", "--qos", "0,1", "--retain", "false", "--priority", "30", "--id", "sensors-pub"],
        ["--allow", "--action", "subscribe", "--topic", "sensors/#", "--priority", "31", "--id", "sensors-sub"],
        ["--allow", "--action", "subscribe", "--topic", "telemetry/#", "--qos", "0", "--priority", "32", "--id", "telemetry"],
        ["--allow", "--topic", "lan/#", "--source", "127.0.0.0/8", "--priority", "40", "--id", "lan"],
        ["--allow", "--topic", "wan/#", "--source", "10.0.0.0/8", "--priority", "41", "--id", "wan"],
    ]

    @Test func everyAllowAndDenyPath() async throws {
        let node = try await ACLTestNode.start(environment: ["TRIBUTARY_AUTH_ACL_NO_MATCH": "deny"])
        try await node.addUsers(["alice", "bob", "watcher"], superusers: ["root"])
        for rule in Self.rules { try await node.ctlOK(["acl", "add"] + rule) }
        let listed = try await node.ctl(["acl", "list"])
        #expect(listed.status == 0)
        let order = listed.output.split(separator: "\n").compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("id=") }.map { String($0.dropFirst(3)) }
        }
        #expect(order == ["no-secret", "own-user", "own-client", "sensors-pub", "sensors-sub", "telemetry", "lan", "wan"], "\(listed.output)")
        let script = try AuthzScript(port: node.mqttPort, phase: "acl")
        #expect(await script.succeeded(), "\(script.text)\nnode stderr: \(node.node.standardError)")
        await node.stop()
    }

    @Test func v3DeniedPublishesCanBeAcknowledgedAndDropped() async throws {
        let node = try await ACLTestNode.start(environment: [
            "TRIBUTARY_AUTH_ACL_NO_MATCH": "deny", "TRIBUTARY_AUTH_ACL_V3_PUBLISH_DENIED": "ignore",
        ])
        try await node.ctlOK(["acl", "add", "--allow", "--action", "subscribe", "--topic", "#"])
        try await node.ctlOK(["acl", "add", "--allow", "--action", "publish", "--topic", "open/#"])
        let script = try AuthzScript(port: node.mqttPort, phase: "v3ignore")
        #expect(await script.succeeded(), "\(script.text)\nnode stderr: \(node.node.standardError)")
        await node.stop()
    }

    @Test func ruleChangesApplyToConnectedClients() async throws {
        let node = try await ACLTestNode.start(environment: ["TRIBUTARY_AUTH_ACL_NO_MATCH": "deny"])
        try await node.addUsers(["carol"])
        let script = try AuthzScript(port: node.mqttPort, phase: "live")
        #expect(await script.waitFor("add"), "\(script.text)")
        try await node.ctlOK(["acl", "add", "--allow", "--action", "publish", "--topic", "live/#", "--id", "live"])
        script.proceed()
        #expect(await script.waitFor("delete"), "\(script.text)")
        try await node.ctlOK(["acl", "delete", "live"])
        script.proceed()
        #expect(await script.succeeded(), "\(script.text)\nnode stderr: \(node.node.standardError)")
        await node.stop()
    }

    @Test func badRulesAreRefusedWithTheProblem() async throws {
        let node = try await ACLTestNode.start()
        let cases: [([String], String)] = [
            (["--allow", "--topic", "a/#/b"], "invalid topic filter 'a/#/b'"),
            (["--allow", "--topic", "a/x%u"], "%u and %c must each be a whole topic level"),
            (["--allow", "--topic", "a", "--source", "10.0.0.0/33"], "invalid source '10.0.0.0/33'"),
            (["--allow", "--topic", "a", "--source", "nohost"], "invalid source 'nohost'"),
            (["--allow", "--deny", "--topic", "a"], "exactly one of --allow and --deny"),
            (["--allow", "--topic", "a", "--qos", "3"], "--qos must list 0, 1 or 2"),
            (["--allow", "--topic", "a", "--action", "read"], "--action must be publish, subscribe or both"),
            (["--allow", "--topic", "a", "--priority", "1000000"], "invalid priority 1000000"),
            (["--allow", "--topic", "a", "--user", "u", "--client-id", "c"], "at most one of --user and --client-id"),
        ]
        for (arguments, message) in cases {
            let (status, output) = try await node.ctl(["acl", "add"] + arguments)
            #expect(status != 0 && output.contains(message), "\(arguments): status \(status): \(output)")
        }
        try await node.ctlOK(["acl", "add", "--allow", "--topic", "a/b", "--id", "dup"])
        let duplicate = try await node.ctl(["acl", "add", "--allow", "--topic", "c", "--id", "dup", "--priority", "7"])
        #expect(duplicate.status == 1 && duplicate.output.contains("rule 'dup' already exists"), "\(duplicate.output)")
        let missing = try await node.ctl(["acl", "delete", "nope"])
        #expect(missing.status == 1 && missing.output.contains("no rule 'nope'"), "\(missing.output)")
        await node.stop()
    }
}
