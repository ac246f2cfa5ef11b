import Foundation
import Testing

/// MQTT over TLS and over secure WebSocket in `tributary standalone`, driven by paho-mqtt (which
/// verifies the server certificate against the CA it is given).
@Suite("tributary standalone MQTT over TLS and WSS", .serialized)
struct MQTTTLSProcessTests {
    /// A self-signed certificate for localhost/127.0.0.1 made by openssl in `directory`.
    static func makeCertificate(in directory: String, name: String) throws -> (certificate: String, key: String) {
        let certificate = directory + "/\(name).pem"
        let key = directory + "/\(name)-key.pem"
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
            "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0, "openssl could not make a certificate")
        return (certificate, key)
    }

    /// A paho client that trusts `ca`, publishes on `port` (TLS or secure WebSocket) and prints
    /// what its own subscription received, or the connection error.
    static let client = """
        import sys, time, paho.mqtt.client as mqtt
        port, transport, ca = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        got = []
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="tls-" + transport, protocol=mqtt.MQTTv5, transport=transport)
        c.tls_set(ca_certs=ca)
        if transport == "websockets":
            c.ws_set_options(path="/mqtt")
        subscribed = []
        c.on_subscribe = lambda *a: subscribed.append(1)
        c.on_message = lambda cl, u, m: got.append(m.payload.decode())
        try:
            c.connect("localhost", port)
        except Exception as e:
            print("CONNECT-FAILED", type(e).__name__)
            sys.exit(0)
        c.loop_start()
        c.subscribe("secure/t", qos=1)
        deadline = time.time() + 10
        while not subscribed and time.time() < deadline: time.sleep(0.02)
        c.publish("secure/t", "hello over " + transport, qos=1).wait_for_publish(10)
        while not got and time.time() < deadline: time.sleep(0.02)
        print("RECEIVED", got)
        c.loop_stop()
        c.disconnect()
        """

    @Test func tlsAndSecureWebSocketCarryMQTTAndRefuseUntrustedClients() async throws {
        try PahoConformanceTests.requirePaho()
        let directory = TributaryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try Self.makeCertificate(in: directory, name: "server")
        let other = try Self.makeCertificate(in: directory, name: "other")
        let node = try TributaryProcess.standalone(environment: [
            "TRIBUTARY_MQTT_TLS_CERT_FILE": server.certificate, "TRIBUTARY_MQTT_TLS_KEY_FILE": server.key,
            "TRIBUTARY_MQTT_TLS_PORT": "0", "TRIBUTARY_MQTT_WSS_PORT": "0",
        ])
        defer { node.signal(SIGKILL) }
        let fields = try #require(await node.readyFields(), "no ready line:\n\(node.standardError)")
        let tlsPort = try #require(fields["mqtt-tls"]?.split(separator: ":").last.flatMap { Int($0) })
        let wssPort = try #require(fields["mqtt-wss"]?.split(separator: ":").last.flatMap { Int($0) })

        for (port, transport) in [(tlsPort, "tcp"), (wssPort, "websockets")] {
            let (status, output) = try await PahoConformanceTests.python(
                ["-c", Self.client, "\(port)", transport, server.certificate], timeout: .seconds(60))
            #expect(status == 0, "\(output)")
            #expect(output.contains("RECEIVED ['hello over \(transport)']"), "\(transport): \(output)")

            // A client that trusts another CA refuses the server's certificate.
            let (_, refused) = try await PahoConformanceTests.python(
                ["-c", Self.client, "\(port)", transport, other.certificate], timeout: .seconds(60))
            #expect(refused.contains("CONNECT-FAILED"), "\(transport) with an untrusted CA: \(refused)")
        }
    }

    @Test func aCertificateWithoutItsKeyIsRefusedAtStart() async throws {
        let directory = TributaryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try Self.makeCertificate(in: directory, name: "server")
        let onlyCertificate = try TributaryProcess(
            ["standalone", "--data-dir", directory + "/data"],
            environment: ["TRIBUTARY_MQTT_TLS_CERT_FILE": server.certificate])
        #expect(await onlyCertificate.exitStatus() == 78)
        #expect(onlyCertificate.standardError.contains("mqtt.tls.key-file"))

        let other = try Self.makeCertificate(in: directory, name: "other")
        let mismatched = try TributaryProcess(
            ["standalone", "--data-dir", directory + "/data"],
            environment: ["TRIBUTARY_MQTT_TLS_CERT_FILE": server.certificate, "TRIBUTARY_MQTT_TLS_KEY_FILE": other.key])
        #expect(await mismatched.exitStatus() == 78)
        #expect(mismatched.standardError.contains("mqtt.tls"))
    }
}
