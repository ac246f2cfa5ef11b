import Foundation
import Testing

/// MQTT authentication end to end: `tributary standalone` with `auth.*` configured, users managed
/// with `tributary ctl user`, and real clients (paho-mqtt; a raw MQTT 5 client for SCRAM).
@Suite("MQTT authentication with real clients", .serialized)
struct AuthProcessTests {
    @Test("password users from ctl: right password in, wrong / missing / unknown 0x86, anonymous 0x87; passwd and delete take effect")
    func passwordUsers() async throws {
        try await AuthTestNode.requireClients()
        let node = try await AuthTestNode.start(config: """
            mqtt:
              allow-anonymous: false
            """)
        let add = try await node.ctl(["user", "add", "alice", "--password-stdin", "--iterations", "1000"], input: "s3cret pass\n")
        #expect(add.status == 0 && add.output.contains("added user default/alice"), "\(add)")
        let again = try await node.ctl(["user", "add", "alice", "--password-stdin", "--iterations", "1000"], input: "other\n")
        #expect(again.status == 1 && again.error.contains("already exists"), "\(again)")
        let superuser = try await node.ctl(["user", "add", "root", "--super", "--password-stdin", "--iterations", "1000"], input: "rootpw\n")
        #expect(superuser.status == 0, "\(superuser)")
        let list = try await node.ctl(["user", "list"])
        #expect(list.output.contains("default/alice  super=no iterations=1000"), "\(list)")
        #expect(list.output.contains("default/root  super=yes"), "\(list)")
        let stored = try await node.ctl(["kv", "get", "/security/users/default/alice"])
        #expect(stored.output.contains("pbkdf2-sha256$1000$") && !stored.output.contains("s3cret"), "\(stored)")
        let badName = try await node.ctl(["user", "add", "a/b", "--password-stdin", "--iterations", "1000"], input: "x\n")
        #expect(badName.status != 0 && badName.error.contains("must not contain '/'"), "\(badName)")
        let emptyPassword = try await node.ctl(["user", "add", "carol", "--password-stdin"], input: "\n")
        #expect(emptyPassword.status != 0 && emptyPassword.error.contains("no password"), "\(emptyPassword)")
        let noPassword = try await node.ctl(["user", "add", "bob"])
        #expect(noPassword.status != 0 && noPassword.error.contains("--password-stdin"), "\(noPassword)")

        try await node.runCase("password", ["alice", "s3cret pass"])

        let passwd = try await node.ctl(["user", "passwd", "alice", "--password-stdin", "--iterations", "1000"], input: "n3w pass\n")
        #expect(passwd.status == 0, "\(passwd)")
        try await node.runCase("expect", ["alice", "n3w pass", "0x00"])
        try await node.runCase("expect", ["alice", "s3cret pass", "0x86"])
        let delete = try await node.ctl(["user", "delete", "alice"])
        #expect(delete.status == 0, "\(delete)")
        try await node.runCase("expect", ["alice", "n3w pass", "0x86"])
        let deleteAgain = try await node.ctl(["user", "delete", "alice"])
        #expect(deleteAgain.status == 1 && deleteAgain.error.contains("no user 'alice'"), "\(deleteAgain)")
        await node.stop()
    }

    @Test("SCRAM-SHA-256 over MQTT 5 AUTH: connect, re-authenticate, wrong password / unknown user 0x86, unknown method 0x8C")
    func scram() async throws {
        try await AuthTestNode.requireClients()
        let node = try await AuthTestNode.start(config: "")
        let add = try await node.ctl(["user", "add", "carol", "--password-stdin", "--iterations", "4096"], input: "scram secret\n")
        #expect(add.status == 0, "\(add)")
        try await node.runCase("scram", ["carol", "scram secret"])
        await node.stop()
    }

    @Test("JWT as the password: HS256/RS256/ES256 by kid accepted; expired, forged, none, wrong key/issuer/audience 0x86; client id binding")
    func jwt() async throws {
        try await AuthTestNode.requireClients()
        let directory = TributaryProcess.temporaryDirectory()
        try await AuthTestNode.makeCertificates(in: directory)
        let node = try await AuthTestNode.start(config: """
            mqtt:
              allow-anonymous: false
            auth:
              chain: jwt
              jwt:
                enabled: true
                hs256-secret-files: hs=\(directory)/secret
                public-key-files: rsa=\(directory)/rsa.pub,ec=\(directory)/ec.pub
                issuer: tributary-tests
                audience: mqtt
            """, directory: directory)
        try await node.runCase("jwt", [directory + "/secret", directory + "/rsa.key", directory + "/ec.key", "tributary-tests", "mqtt"])
        #expect(await eventually(timeout: .seconds(10)) {
            node.process.standardError.contains("JWT refused") || node.process.standardOutput.contains("JWT refused")
        }, "refusals are logged")
        await node.stop()
    }

    @Test(
        "X.509 client certificates: a CA-signed one authenticates as its CN; untrusted, expired (and, when required, missing) are refused at the handshake",
        arguments: ["required", "optional"])
    func x509(clientAuth: String) async throws {
        try await AuthTestNode.requireClients()
        let directory = TributaryProcess.temporaryDirectory()
        try await AuthTestNode.makeCertificates(in: directory)
        let node = try await AuthTestNode.start(config: """
            mqtt:
              allow-anonymous: false
              tls:
                cert-file: \(directory)/server.pem
                key-file: \(directory)/server.key
                port: 0
                client-auth: \(clientAuth)
                ca-file: \(directory)/ca.pem
              wss:
                port: 0
            auth:
              x509:
                username-from-cn: true
            """, directory: directory)
        let port = try node.port("mqtt-tls")
        try await node.runCase("x509", port: port, [
            directory + "/ca.pem", directory + "/client.pem", directory + "/client.key", directory + "/untrusted.pem",
            directory + "/untrusted.key", directory + "/expired.pem", directory + "/expired.key", clientAuth,
            try node.port("mqtt-wss"),
        ])
        await node.stop()
    }

    @Test("HTTP callout: allow, deny (0x86), 500 and timeout (0x87, on-error deny), decisions cached")
    func httpCallout() async throws {
        try await AuthTestNode.requireClients()
        let service = Process()
        service.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        service.arguments = ["python3", "-u", PahoConformanceTests.repositoryRoot.appendingPathComponent("tests/paho/auth_http_service.py").path]
        let output = TributaryProcess.Captured()
        let pipe = Pipe()
        service.standardOutput = pipe
        service.standardError = pipe
        pipe.fileHandleForReading.readabilityHandler = { output.append($0.availableData) }
        try service.run()
        defer {
            // SIGKILL: the test process's children may inherit a blocked SIGTERM.
            kill(service.processIdentifier, SIGKILL)
            service.waitUntilExit()
            pipe.fileHandleForReading.readabilityHandler = nil
        }
        #expect(await eventually(timeout: .seconds(30)) { output.value.contains("port ") }, "service: \(output.value)")
        let servicePort = try #require(output.value.split(separator: "\n").first { $0.hasPrefix("port ") }?.dropFirst(5))
        let node = try await AuthTestNode.start(config: """
            mqtt:
              allow-anonymous: false
            auth:
              chain: http
              http:
                url: http://127.0.0.1:\(servicePort)/mqtt/auth
                timeout-ms: 1000
                cache-ttl: 60
            """)
        try await node.runCase("http", [String(servicePort)])
        #expect(await eventually(timeout: .seconds(10)) {
            node.process.standardError.contains("authentication service failed")
                || node.process.standardOutput.contains("authentication service failed")
        }, "service failures are logged")
        await node.stop()
    }

    @Test("unusable auth configuration stops the node with exit 78 naming the key")
    func badConfiguration() async throws {
        let directory = TributaryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (config, expected) in [
            ("auth:\n  chain: password,kerberos\n", "auth.chain"),
            ("auth:\n  jwt:\n    enabled: true\n", "auth.jwt.enabled"),
            ("auth:\n  jwt:\n    enabled: true\n    public-key-files: k=\(directory)/missing.pem\n", "missing.pem"),
            ("auth:\n  http:\n    url: ftp://example\n", "auth.http.url"),
            ("mqtt:\n  tls:\n    client-auth: required\n", "mqtt.tls.ca-file"),
        ] {
            let file = directory + "/bad.yaml"
            try config.write(toFile: file, atomically: true, encoding: .utf8)
            let node = try TributaryProcess.standalone(extra: ["--config", file])
            #expect(await node.exitStatus() == 78, "\(config): \(node.standardError)")
            // The pipe may deliver the last output after the exit is seen.
            #expect(await eventually(timeout: .seconds(10)) { node.standardError.contains(expected) }, "\(config): \(node.standardError)")
        }
    }
}
