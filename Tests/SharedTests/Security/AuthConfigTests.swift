import Foundation
import Shared
import Testing

/// The `auth.*` keys, `mqtt.allow-anonymous: auto` and the TLS client-auth keys.
@Suite("authentication configuration")
struct AuthConfigTests {
    static func load(_ flags: [String: String]) async throws(ConfigurationError) -> TributaryConfig {
        try await ConfigLoader(filePath: nil, environment: [:], flags: flags).load()
    }

    @Test("defaults: chain x509,password,jwt,http with only password active; anonymous auto")
    func defaults() async throws {
        let config = try await Self.load([:])
        #expect(config.auth.chain == [.x509, .password, .jwt, .http])
        #expect(config.auth.activeChain == [.password])
        #expect(config.mqttBroker.allowAnonymous == nil)
        #expect(config.mqttBroker.allowsAnonymous(standalone: true))
        #expect(!config.mqttBroker.allowsAnonymous(standalone: false))
        #expect(try await Self.load(["mqtt.allow-anonymous": "true"]).mqttBroker.allowsAnonymous(standalone: false))
        #expect(try await !Self.load(["mqtt.allow-anonymous": "false"]).mqttBroker.allowsAnonymous(standalone: true))
    }

    @Test("a configured chain keeps its order; mechanisms take part when configured")
    func chainOrder() async throws {
        let config = try await Self.load([
            "auth.chain": "http, jwt,password", "auth.http.url": "http://127.0.0.1:1/auth",
            "auth.jwt.enabled": "true", "auth.jwt.hs256-secret-files": "/s",
        ])
        #expect(config.auth.activeChain == [.http, .jwt, .password])
        #expect(try await Self.load(["auth.chain": ""]).auth.activeChain == [])
    }

    @Test("unknown or repeated mechanisms, JWT without keys, a non-HTTP URL and client-auth without a CA are refused")
    func refusals() async {
        let bad: [([String: String], String)] = [
            (["auth.chain": "password,kerberos"], "auth.chain"),
            (["auth.chain": "password,password"], "auth.chain"),
            (["auth.jwt.enabled": "true"], "auth.jwt.enabled"),
            (["auth.http.url": "ftp://host/x"], "auth.http.url"),
            (["mqtt.tls.client-auth": "required"], "mqtt.tls.ca-file"),
            (["mqtt.tls.client-auth": "optional", "mqtt.tls.ca-file": "/ca.pem"], "mqtt.tls.client-auth"),
            (["mqtt.allow-anonymous": "maybe"], "mqtt.allow-anonymous"),
        ]
        for (flags, key) in bad {
            do {
                _ = try await Self.load(flags)
                Issue.record("\(flags) was accepted")
            } catch {
                #expect(error.description.contains(key), "\(flags): \(error)")
            }
        }
    }
}

@Suite("JWT key files")
struct JWTKeyFileTests {
    @Test("secrets and PEM public keys load by kid; short secrets, non-keys and missing files are refused")
    func loading() throws {
        let directory = NSTemporaryDirectory() + "jwt-keys-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "0123456789abcdef0123456789abcdef\n".write(toFile: directory + "/long", atomically: true, encoding: .utf8)
        try "short\n".write(toFile: directory + "/short", atomically: true, encoding: .utf8)
        try "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n".write(toFile: directory + "/bad.pem", atomically: true, encoding: .utf8)
        let set = try JWTKeySet.load(secretFiles: "a=\(directory)/long, \(directory)/long", publicKeyFiles: "")
        #expect(set.ids == ["a", "long"])
        #expect(throws: JWTKeyLoadingError.secretTooShort(file: directory + "/short", bytes: 5)) {
            try JWTKeySet.load(secretFiles: directory + "/short", publicKeyFiles: "")
        }
        #expect(throws: JWTKeyLoadingError.notAPublicKey(file: directory + "/bad.pem")) {
            try JWTKeySet.load(secretFiles: "", publicKeyFiles: "k=\(directory)/bad.pem")
        }
        #expect(throws: JWTKeyLoadingError.badEntry("k=\(directory)/long")) {
            try JWTKeySet.load(secretFiles: "k=\(directory)/long,k=\(directory)/long", publicKeyFiles: "")
        }
        #expect(throws: JWTKeyLoadingError.self) {
            try JWTKeySet.load(secretFiles: directory + "/missing", publicKeyFiles: "")
        }
    }
}

@Suite("SCRAM client against the server")
struct SCRAMClientTests {
    @Test("the client and the server agree; a wrong password fails; the server signature verifies")
    func exchange() throws {
        let hash = try PasswordHasher(iterations: 4096).hash("pencil", salt: Array("saltsaltsaltsalt".utf8))
        for (password, succeeds) in [("pencil", true), ("pen", false)] {
            var server = SCRAMServer()
            var client = SCRAMClient(username: "user,=name", password: password)
            let name = try server.receiveClientFirst(client.clientFirst())
            #expect(name == "user,=name")
            let serverFirst = try server.serverFirst(credentials: SCRAMCredentials(passwordHash: hash))
            let final = try client.clientFinal(serverFirst: serverFirst)
            if succeeds {
                let serverFinal = try server.receiveClientFinal(final)
                #expect(client.verify(serverFinal: serverFinal))
                #expect(!client.verify(serverFinal: Array("v=AAAA".utf8)))
            } else {
                #expect(throws: SCRAMError.authenticationFailed) { try server.receiveClientFinal(final) }
            }
        }
    }
}
