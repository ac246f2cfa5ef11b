import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Testing

@testable import BrokerServer

/// A real NIOWebSocket client against ``MQTTWebSocketListener`` on loopback, with the echo
/// `configureMQTT` of ``MQTTEchoServerHandler``.
@Suite("MQTT over WebSocket listener", .serialized)
struct MQTTWebSocketListenerTests {
    static let logger: Logger = {
        var logger = Logger(label: "mqtt-websocket-test")
        logger.logLevel = .warning
        return logger
    }()

    /// Runs `body` with a started listener and its port; shuts the listener down afterwards.
    private func withListener(
        _ configuration: MQTTWebSocketListener.Configuration = .init(),
        _ body: (Int, MQTTWebSocketListener) async throws -> Void
    ) async throws {
        let reported = NIOLockedValueBox<SocketAddress?>(nil)
        let listener = MQTTWebSocketListener(
            configuration: configuration,
            logger: Self.logger,
            configureMQTT: MQTTEchoServerHandler.configure,
            onBound: { address in reported.withLockedValue { $0 = address } }
        )
        let address = try await listener.start()
        let port = try #require(address.port)
        #expect(reported.withLockedValue { $0 } == address)
        do {
            try await body(port, listener)
        } catch {
            await listener.shutdown()
            throw error
        }
        await listener.shutdown()
    }

    /// Waits until `condition` holds or `timeout` passes; returns whether it held.
    private static func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    private static func encode(_ packets: [MQTTPacket]) throws -> [UInt8] {
        var out = ByteBuffer()
        for packet in packets { try packet.encode(version: .v5, into: &out) }
        return Array(out.readableBytesView)
    }

    private static let connect = MQTTPacket.connect(MQTTConnect(protocolVersion: .v5, clientIdentifier: "ws-client"))

    /// Reads binary frames until `count` MQTT packets have been decoded from them.
    private static func receivePackets(_ count: Int, from client: WebSocketTestClient) async throws -> [MQTTPacket] {
        var decoder = MQTTDecoder(role: .client, version: .v5)
        var bytes = ByteBuffer()
        var packets: [MQTTPacket] = []
        while packets.count < count {
            let frame = try #require(try await client.nextFrame(), "connection closed after \(packets.count) packets")
            #expect(frame.opcode == .binary)
            var data = frame.unmaskedData
            bytes.writeBuffer(&data)
            while let packet = try decoder.decode(buffer: &bytes) { packets.append(packet) }
        }
        return packets
    }

    @Test("upgrade on /mqtt with the mqtt subprotocol answers Sec-WebSocket-Protocol: mqtt and carries MQTT")
    func upgradeAndConnect() async throws {
        try await withListener { port, listener in
            let client = try await WebSocketTestClient.connect(port: port)
            #expect(client.responseHeaders["Sec-WebSocket-Protocol"] == ["mqtt"])
            try await client.send(.binary, Self.encode([Self.connect]))
            #expect(try await Self.receivePackets(1, from: client) == [.connack(MQTTConnAck())])
            #expect(listener.connectionCount == 1)
            await client.close()
        }
    }

    @Test("a CONNECT split across two binary frames, and across a fragmented message, decodes")
    func connectSplitAcrossFrames() async throws {
        try await withListener { port, _ in
            let bytes = try Self.encode([Self.connect])
            let middle = bytes.count / 2
            let separate = try await WebSocketTestClient.connect(port: port)
            try await separate.send(.binary, Array(bytes[..<middle]))
            try await separate.send(.binary, Array(bytes[middle...]))
            #expect(try await Self.receivePackets(1, from: separate) == [.connack(MQTTConnAck())])
            await separate.close()

            let fragmented = try await WebSocketTestClient.connect(port: port)
            try await fragmented.send(.binary, Array(bytes[..<3]), fin: false)
            try await fragmented.send(.continuation, Array(bytes[3..<middle]), fin: false)
            try await fragmented.send(.continuation, Array(bytes[middle...]), fin: true)
            #expect(try await Self.receivePackets(1, from: fragmented) == [.connack(MQTTConnAck())])
            await fragmented.close()
        }
    }

    @Test("several packets in one frame all decode, in order")
    func packetsInOneFrame() async throws {
        try await withListener { port, _ in
            let client = try await WebSocketTestClient.connect(port: port)
            let publish = MQTTPacket.publish(MQTTPublish(topicName: "a/b", payload: ByteBuffer(string: "hello")))
            try await client.send(.binary, Self.encode([Self.connect, publish, .pingreq]))
            #expect(try await Self.receivePackets(3, from: client) == [.connack(MQTTConnAck()), publish, .pingresp])
            await client.close()
        }
    }

    @Test("ping is answered with a pong carrying the same payload")
    func pingPong() async throws {
        try await withListener { port, _ in
            let client = try await WebSocketTestClient.connect(port: port)
            try await client.send(.ping, [1, 2, 3])
            let pong = try #require(try await client.nextFrame())
            #expect(pong.opcode == .pong)
            #expect(Array(pong.unmaskedData.readableBytesView) == [1, 2, 3])
            await client.close()
        }
    }

    @Test("a close frame is answered with a close frame echoing its code, then the connection closes")
    func closeHandshake() async throws {
        try await withListener { port, listener in
            let client = try await WebSocketTestClient.connect(port: port)
            var payload = ByteBuffer()
            payload.write(webSocketErrorCode: .goingAway)
            try await client.send(.connectionClose, Array(payload.readableBytesView))
            let reply = try #require(try await client.nextFrame())
            #expect(reply.opcode == .connectionClose)
            var data = reply.unmaskedData
            #expect(data.readWebSocketErrorCode() == .goingAway)
            try await client.waitForClose()
            #expect(await Self.eventually { listener.connectionCount == 0 })
        }
    }

    @Test("run() returns and stops accepting when its task is cancelled (a failed service group)")
    func runStopsOnCancellation() async throws {
        let listener = MQTTWebSocketListener(configuration: .init(), logger: Self.logger, configureMQTT: MQTTEchoServerHandler.configure)
        let returned = NIOLockedValueBox(false)
        let running = Task {
            try? await listener.run()
            returned.withLockedValue { $0 = true }
        }
        #expect(await Self.eventually { listener.localAddress != nil })
        let port = try #require(listener.localAddress?.port)
        running.cancel()
        let stopped = await Self.eventually(timeout: .seconds(20)) { returned.withLockedValue { $0 } }
        #expect(stopped, "run() did not return after cancellation")
        if !stopped { await listener.shutdown() }
        await #expect(throws: (any Error).self) {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port).get()
            try? await channel.close()
        }
    }

    @Test("an unmasked client frame closes the connection with 1002 (RFC 6455 §5.1)")
    func unmaskedFrame() async throws {
        try await withListener(.init()) { port, _ in
            let client = try await WebSocketTestClient.connect(port: port)
            try await client.send(.binary, [0xC0, 0x00], masked: false)
            let close = try #require(try await client.nextFrame())
            var code = close.unmaskedData
            #expect(close.opcode == .connectionClose)
            #expect(code.readWebSocketErrorCode() == .protocolError)
            try await client.waitForClose()
        }
    }

    @Test("a text frame closes the connection with 1003, an oversized message with 1009")
    func refusedFrames() async throws {
        try await withListener(.init(maximumMessageSize: 64)) { port, _ in
            let text = try await WebSocketTestClient.connect(port: port)
            try await text.send(.text, Array("hello".utf8))
            let first = try #require(try await text.nextFrame())
            var code = first.unmaskedData
            #expect(first.opcode == .connectionClose)
            #expect(code.readWebSocketErrorCode() == .unacceptableData)
            try await text.waitForClose()

            let large = try await WebSocketTestClient.connect(port: port)
            try await large.send(.binary, [UInt8](repeating: 0x30, count: 40), fin: false)
            try await large.send(.continuation, [UInt8](repeating: 0x30, count: 40), fin: true)
            let second = try #require(try await large.nextFrame())
            code = second.unmaskedData
            #expect(second.opcode == .connectionClose)
            #expect(code.readWebSocketErrorCode() == .messageTooLarge)
            try await large.waitForClose()
        }
    }

    @Test("a frame over the maximum frame size closes the connection with 1009")
    func oversizedFrame() async throws {
        try await withListener(.init(maximumFrameSize: 128)) { port, _ in
            let client = try await WebSocketTestClient.connect(port: port)
            try await client.send(.binary, [UInt8](repeating: 0x30, count: 200))
            let frame = try #require(try await client.nextFrame())
            var code = frame.unmaskedData
            #expect(frame.opcode == .connectionClose)
            #expect(code.readWebSocketErrorCode() == .messageTooLarge)
            try await client.waitForClose()
        }
    }

    @Test("frames out of sequence close the connection with 1002")
    func framesOutOfSequence() async throws {
        try await withListener { port, _ in
            let orphan = try await WebSocketTestClient.connect(port: port)
            try await orphan.send(.continuation, [0x10], fin: true)
            let first = try #require(try await orphan.nextFrame())
            var code = first.unmaskedData
            #expect(first.opcode == .connectionClose)
            #expect(code.readWebSocketErrorCode() == .protocolError)
            try await orphan.waitForClose()

            let interleaved = try await WebSocketTestClient.connect(port: port)
            try await interleaved.send(.binary, [0x10], fin: false)
            try await interleaved.send(.binary, [0x00], fin: true)
            let second = try #require(try await interleaved.nextFrame())
            code = second.unmaskedData
            #expect(second.opcode == .connectionClose)
            #expect(code.readWebSocketErrorCode() == .protocolError)
            try await interleaved.waitForClose()
        }
    }

    @Test("malformed MQTT inside a binary frame closes the connection")
    func malformedMQTT() async throws {
        try await withListener { port, _ in
            let client = try await WebSocketTestClient.connect(port: port)
            // A PUBLISH before CONNECT is a protocol error for a server-side decoder.
            try await client.send(.binary, [0x30, 0x03, 0x00, 0x01, 0x61])
            try await client.waitForClose()
        }
    }

    private static func upgradeRequest(path: String, protocols: [String]) -> String {
        var lines = [
            "GET \(path) HTTP/1.1", "Host: localhost", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
        ]
        lines += protocols.map { "Sec-WebSocket-Protocol: \($0)" }
        return lines.joined(separator: "\r\n") + "\r\n\r\n"
    }

    @Test("another path is 404, no or another subprotocol is 400, and each connection is closed")
    func refusedUpgrades() async throws {
        try await withListener { port, _ in
            let wrongPath = try await RawHTTPExchange.send(Self.upgradeRequest(path: "/other", protocols: ["mqtt"]), port: port)
            #expect(RawHTTPExchange.status(of: wrongPath) == 404)
            let noProtocol = try await RawHTTPExchange.send(Self.upgradeRequest(path: "/mqtt", protocols: []), port: port)
            #expect(RawHTTPExchange.status(of: noProtocol) == 400)
            let otherProtocol = try await RawHTTPExchange.send(Self.upgradeRequest(path: "/mqtt", protocols: ["chat"]), port: port)
            #expect(RawHTTPExchange.status(of: otherProtocol) == 400)
            let plainGet = try await RawHTTPExchange.send("GET /mqtt HTTP/1.1\r\nHost: localhost\r\n\r\n", port: port)
            #expect(RawHTTPExchange.status(of: plainGet) == 400)
            let badVersion = try await RawHTTPExchange.send(
                Self.upgradeRequest(path: "/mqtt", protocols: ["mqtt"]).replacingOccurrences(of: "Version: 13", with: "Version: 8"),
                port: port
            )
            #expect(RawHTTPExchange.status(of: badVersion) == 400)
            let accepted = try await RawHTTPExchange.sendExpectingOpen(Self.upgradeRequest(path: "/mqtt", protocols: ["mqtt"]), port: port)
            #expect(RawHTTPExchange.status(of: accepted) == 101)
            #expect(accepted.lowercased().contains("sec-websocket-protocol: mqtt\r\n"))
            // The listener still serves after refusing.
            let client = try await WebSocketTestClient.connect(port: port)
            try await client.send(.binary, Self.encode([Self.connect]))
            #expect(try await Self.receivePackets(1, from: client) == [.connack(MQTTConnAck())])
            await client.close()
        }
    }

    @Test("shutdown closes open connections with a close frame")
    func shutdownClosesConnections() async throws {
        let listener = MQTTWebSocketListener(configuration: .init(), logger: Self.logger, configureMQTT: MQTTEchoServerHandler.configure)
        let port = try #require(try await listener.start().port)
        let client = try await WebSocketTestClient.connect(port: port)
        try await client.send(.binary, Self.encode([Self.connect]))
        #expect(try await Self.receivePackets(1, from: client).count == 1)
        await listener.shutdown()
        let frame = try #require(try await client.nextFrame())
        #expect(frame.opcode == .connectionClose)
        try await client.waitForClose()
    }

    @Test("WSS: the upgrade and MQTT run over TLS with a certificate made by openssl; plain WS is refused")
    func secureWebSocket() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (certificateFile, keyFile) = try certificates.selfSigned()
        let serverContext = try MQTTTLSListenerSupport.makeServerContext(
            MQTTTLSConfiguration(certificateFile: certificateFile, privateKeyFile: keyFile)
        )
        var clientConfiguration = TLSConfiguration.makeClientConfiguration()
        clientConfiguration.trustRoots = .file(certificateFile)
        let clientContext = try NIOSSLContext(configuration: clientConfiguration)
        try await withListener(.init(tls: serverContext)) { port, _ in
            let client = try await WebSocketTestClient.connect(port: port, tls: clientContext, serverHostname: "localhost")
            #expect(client.responseHeaders["Sec-WebSocket-Protocol"] == ["mqtt"])
            try await client.send(.binary, Self.encode([Self.connect, .pingreq]))
            #expect(try await Self.receivePackets(2, from: client) == [.connack(MQTTConnAck()), .pingresp])
            await client.close()

            await #expect(throws: (any Error).self) {
                _ = try await WebSocketTestClient.connect(port: port)
            }
        }
    }
}
