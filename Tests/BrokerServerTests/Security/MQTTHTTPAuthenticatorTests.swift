import NIOCore
import NIOHTTP1
import Testing

@testable import BrokerServer

@Suite("HTTP authentication service: settings and answers")
struct MQTTHTTPAuthenticatorTests {
    static func settings(_ url: String) -> MQTTHTTPAuthSettings? {
        MQTTHTTPAuthSettings(url: url, timeout: .seconds(1), cacheTTL: .seconds(1), onError: .deny)
    }

    @Test("URLs: scheme, host, port and path; anything but http(s) with a host is refused")
    func urls() throws {
        let plain = try #require(Self.settings("http://auth.internal:8080/mqtt/auth?x=1"))
        #expect(plain.scheme == "http" && plain.host == "auth.internal" && plain.port == 8080 && plain.path == "/mqtt/auth?x=1")
        let secure = try #require(Self.settings("https://auth.example.com"))
        #expect(secure.port == 443 && secure.path == "/")
        let ipv6 = try #require(Self.settings("http://[::1]:9000/a"))
        #expect(ipv6.host == "::1" && ipv6.port == 9000)
        for bad in ["ftp://host/", "http://", "http://host:0/", "http://host:99999/", "http://user@host/", "http://[::1/", "host:80"] {
            #expect(Self.settings(bad) == nil, "\(bad)")
        }
    }

    static let credentials = MQTTConnectCredentials(
        clientIdentifier: "c", userName: "u", password: nil, remoteAddress: nil, protocolVersion: .v5)

    @Test("200 with allow / deny / ignore decides; is_superuser reaches the context")
    func decisions() throws {
        func decide(_ body: String) throws -> MQTTAuthOutcome {
            try MQTTHTTPAuthenticator.decision(status: .ok, body: ByteBuffer(string: body), credentials: Self.credentials)
        }
        #expect(try decide(#"{"result":"allow","is_superuser":true}"#)
            == .allow(MQTTAuthContext(userName: "u", isSuperuser: true, mechanism: .http)))
        #expect(try decide(#"{"result":"allow"}"#) == .allow(MQTTAuthContext(userName: "u", mechanism: .http)))
        #expect(try decide(#"{"result":"deny"}"#) == .deny(.badUserNameOrPassword))
        #expect(try decide(#"{"result":"ignore"}"#) == .ignore)
    }

    @Test("another status, a body without a decision or an unknown result are errors (on-error applies)")
    func errors() {
        #expect(throws: (any Error).self) {
            try MQTTHTTPAuthenticator.decision(status: .internalServerError, body: ByteBuffer(string: #"{"result":"allow"}"#), credentials: Self.credentials)
        }
        for body in ["", "[]", #"{"result":1}"#, #"{"result":"maybe"}"#, "not json"] {
            #expect(throws: (any Error).self, "\(body)") {
                try MQTTHTTPAuthenticator.decision(status: .ok, body: ByteBuffer(string: body), credentials: Self.credentials)
            }
        }
    }
}
