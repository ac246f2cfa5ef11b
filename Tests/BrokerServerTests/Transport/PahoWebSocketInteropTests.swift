import Foundation
import Logging
import NIOCore
import Testing

@testable import BrokerServer

/// paho-mqtt's own WebSocket client (a client others wrote) against ``MQTTWebSocketListener``
/// with the echo `configureMQTT`: handshake, masking and framing must interoperate. python3 with
/// paho-mqtt is required (scripts/install-test-deps.sh installs it); it is a failure, not a skip.
@Suite("paho-mqtt over our WebSocket listener", .serialized)
struct PahoWebSocketInteropTests {
    /// Connects over WebSocket on /mqtt, subscribes, publishes `size` bytes, waits for the echo.
    static let script = """
        import sys, threading
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion
        port, version, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
        connected, subscribed, received = threading.Event(), threading.Event(), []
        done = threading.Event()
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="paho-ws",
                             protocol=mqtt.MQTTv5 if version == 5 else mqtt.MQTTv311, transport="websockets")
        client.ws_set_options(path="/mqtt")
        client.on_connect = lambda c, u, f, rc, p: connected.set() if not rc.is_failure else None
        client.on_subscribe = lambda c, u, mid, rcs, p: subscribed.set()
        client.on_message = lambda c, u, m: (received.append(m.payload), done.set())
        client.connect("127.0.0.1", port, keepalive=30)
        client.loop_start()
        if not connected.wait(10): sys.exit("no CONNACK")
        client.subscribe("echo/t", 0)
        if not subscribed.wait(10): sys.exit("no SUBACK")
        payload = bytes(i % 251 for i in range(size))
        client.publish("echo/t", payload, qos=0)
        if not done.wait(10): sys.exit("no echo")
        if received[0] != payload: sys.exit("echoed payload differs")
        client.disconnect()
        client.loop_stop()
        print("OK")
        """

    @Test("paho connects, subscribes and gets a published message echoed", arguments: [4, 5], [16, 200_000])
    func pahoRoundTrip(version: Int, size: Int) async throws {
        var logger = Logger(label: "paho-websocket-test")
        logger.logLevel = .warning
        let listener = MQTTWebSocketListener(configuration: .init(), logger: logger, configureMQTT: MQTTEchoServerHandler.configure)
        let port = try #require(try await listener.start().port)
        let (status, output) = try Self.runPython(["-c", Self.script, "\(port)", "\(version)", "\(size)"])
        await listener.shutdown()
        #expect(status == 0, "paho over WebSocket failed: \(output)")
        #expect(output.contains("OK"))
    }

    /// Runs python3 (trying scripts/install-test-deps.sh once if paho is missing); returns the
    /// exit status and the combined output. The script bounds each of its waits.
    static func runPython(_ arguments: [String]) throws -> (Int32, String) {
        if try run(["-c", "import paho.mqtt.client"]).0 != 0 {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent()
            let install = Process()
            install.executableURL = URL(fileURLWithPath: "/bin/bash")
            install.arguments = [root.appendingPathComponent("scripts/install-test-deps.sh").path]
            try install.run()
            install.waitUntilExit()
        }
        return try run(arguments)
    }

    private static func run(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
