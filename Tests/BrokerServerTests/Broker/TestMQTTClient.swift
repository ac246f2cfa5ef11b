import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import BrokerServer

/// A minimal MQTT client for broker tests: raw packets over a real loopback socket, decoded with
/// our client-side ``MQTTDecoder``; received packets wait in an inbox read with deadlines.
final class TestMQTTClient: Sendable {
    enum Failure: Error, CustomStringConvertible {
        case timeout(String)
        case closed(String)
        case unexpected(MQTTPacket, String)

        var description: String {
            switch self {
            case .timeout(let what): "timed out waiting for \(what)"
            case .closed(let what): "connection closed while waiting for \(what)"
            case .unexpected(let packet, let what): "expected \(what), got \(packet)"
            }
        }
    }

    final class Inbox: Sendable {
        struct State {
            var packets: [MQTTPacket] = []
            var closed = false
        }
        let state = Mutex(State())
    }

    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = MQTTPacket
        let inbox: Inbox
        init(inbox: Inbox) { self.inbox = inbox }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let packet = unwrapInboundIn(data)
            inbox.state.withLock { $0.packets.append(packet) }
        }
        func channelInactive(context: ChannelHandlerContext) {
            inbox.state.withLock { $0.closed = true }
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }

    let channel: any Channel
    let version: MQTTProtocolVersion
    let inbox: Inbox

    private init(channel: any Channel, version: MQTTProtocolVersion, inbox: Inbox) {
        self.channel = channel
        self.version = version
        self.inbox = inbox
    }

    /// Opens a TCP connection to `port` on loopback (no CONNECT sent).
    static func open(port: Int, version: MQTTProtocolVersion = .v5) async throws -> TestMQTTClient {
        let inbox = Inbox()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(MQTTDecoder(role: .client, version: version, configuration: .init(maximumPacketSize: 1 << 22))),
                        Collector(inbox: inbox),
                    ])
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return TestMQTTClient(channel: channel, version: version, inbox: inbox)
    }

    /// Connects and expects CONNACK; returns it.
    static func connect(
        port: Int, id: String, version: MQTTProtocolVersion = .v5, clean: Bool = true, expiry: UInt32? = nil,
        will: MQTTWill? = nil, keepAlive: UInt16 = 60, userName: String? = nil, receiveMaximum: UInt16? = nil
    ) async throws -> (TestMQTTClient, MQTTConnAck) {
        let client = try await open(port: port, version: version)
        var properties = MQTTProperties()
        if version == .v5 {
            properties.sessionExpiryInterval = expiry
            properties.receiveMaximum = receiveMaximum
        }
        try await client.send(
            .connect(
                MQTTConnect(
                    protocolVersion: version, cleanStart: clean, keepAlive: keepAlive, clientIdentifier: id, will: will,
                    userName: userName, properties: properties)))
        let packet = try await client.next("CONNACK")
        guard case .connack(let connack) = packet else { throw Failure.unexpected(packet, "CONNACK") }
        return (client, connack)
    }

    func send(_ packet: MQTTPacket) async throws {
        var buffer = channel.allocator.buffer(capacity: 64)
        try packet.encode(version: version, into: &buffer)
        try await channel.writeAndFlush(buffer)
    }

    /// The next packet, waiting up to `timeout`.
    func next(_ what: String = "a packet", timeout: Duration = .seconds(15)) async throws -> MQTTPacket {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (packet, closed) = inbox.state.withLock { state -> (MQTTPacket?, Bool) in
                if state.packets.isEmpty { return (nil, state.closed) }
                return (state.packets.removeFirst(), false)
            }
            if let packet { return packet }
            if closed { throw Failure.closed(what) }
            if ContinuousClock.now >= deadline { throw Failure.timeout(what) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The next PUBLISH (other packets are skipped), acknowledging QoS 1 and completing QoS 2.
    func nextPublish(timeout: Duration = .seconds(15)) async throws -> MQTTPublish {
        while true {
            let packet = try await next("PUBLISH", timeout: timeout)
            guard case .publish(let publish) = packet else { continue }
            if let identifier = publish.packetIdentifier {
                if publish.qos == .atLeastOnce {
                    try await send(.puback(MQTTPubAck(packetIdentifier: identifier)))
                } else {
                    try await send(.pubrec(MQTTPubRec(packetIdentifier: identifier)))
                    let rel = try await next("PUBREL")
                    guard case .pubrel = rel else { throw Failure.unexpected(rel, "PUBREL") }
                    try await send(.pubcomp(MQTTPubComp(packetIdentifier: identifier)))
                }
            }
            return publish
        }
    }

    /// Asserts that no packet arrives within `window` (used after an event that would have
    /// produced one by then).
    func expectSilence(for window: Duration = .milliseconds(300)) async throws {
        do {
            let packet = try await next("silence", timeout: window)
            Issue.record("unexpected packet \(packet)")
        } catch Failure.timeout {
        }
    }

    /// Waits until the server closes the connection.
    func waitClosed(timeout: Duration = .seconds(15)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if inbox.state.withLock({ $0.closed }) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    func subscribe(_ filter: String, qos: MQTTQoS = .atLeastOnce, identifier: UInt16 = 1) async throws -> MQTTSubAck {
        try await send(.subscribe(MQTTSubscribe(packetIdentifier: identifier, subscriptions: [MQTTSubscription(topicFilter: filter, qos: qos)])))
        while true {
            let packet = try await next("SUBACK")
            if case .suback(let suback) = packet { return suback }
        }
    }

    /// Publishes and, for QoS 1/2, waits for the acknowledgement (completing QoS 2); returns its reason code.
    @discardableResult
    func publish(
        _ topic: String, _ payload: String, qos: MQTTQoS = .atLeastOnce, retain: Bool = false, identifier: UInt16 = 1
    ) async throws -> MQTTReasonCode {
        try await send(
            .publish(
                MQTTPublish(
                    qos: qos, retain: retain, topicName: topic, packetIdentifier: qos == .atMostOnce ? nil : identifier,
                    payload: ByteBuffer(string: payload))))
        switch qos {
        case .atMostOnce:
            return .success
        case .atLeastOnce:
            let packet = try await next("PUBACK")
            guard case .puback(let ack) = packet else { throw Failure.unexpected(packet, "PUBACK") }
            return ack.reasonCode
        case .exactlyOnce:
            let packet = try await next("PUBREC")
            guard case .pubrec(let rec) = packet else { throw Failure.unexpected(packet, "PUBREC") }
            try await send(.pubrel(MQTTPubRel(packetIdentifier: identifier)))
            let complete = try await next("PUBCOMP")
            guard case .pubcomp = complete else { throw Failure.unexpected(complete, "PUBCOMP") }
            return rec.reasonCode
        }
    }

    func disconnect() async throws {
        try await send(.disconnect(MQTTDisconnect()))
        try? await channel.close()
    }

    /// Drops the TCP connection without DISCONNECT.
    func drop() async {
        try? await channel.close()
    }
}

extension MQTTPublish {
    var payloadString: String { String(buffer: payload) }
}
