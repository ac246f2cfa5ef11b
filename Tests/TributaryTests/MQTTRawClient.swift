import NIOCore
import NIOPosix
import Synchronization

/// A tiny MQTT 3.1.1 client for process tests, written from the specification's byte layouts
/// (this test target does not link the broker's codec): CONNECT, SUBSCRIBE, PUBLISH QoS 0/1,
/// PUBACK, DISCONNECT; received packets are parsed from the raw bytes.
final class MQTTRawClient: Sendable {
    struct Packet: Sendable {
        var type: UInt8
        var flags: UInt8
        var body: [UInt8]
    }

    struct Publish: Sendable, Equatable {
        var topic: String
        var payload: String
        var qos: UInt8
        var retain: Bool
    }

    enum Failure: Error, CustomStringConvertible {
        case timeout(String)
        case closed(String)
        case unexpected(String)

        var description: String {
            switch self {
            case .timeout(let what): "timed out waiting for \(what)"
            case .closed(let what): "closed while waiting for \(what)"
            case .unexpected(let what): "unexpected: \(what)"
            }
        }
    }

    final class Inbox: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        struct State {
            var bytes: [UInt8] = []
            var closed = false
        }
        let state = Mutex(State())

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            state.withLock { $0.bytes.append(contentsOf: buffer.readableBytesView) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.withLock { $0.closed = true }
        }

        /// Takes one whole packet off the front, if there is one.
        func take() -> (Packet?, Bool) {
            state.withLock { state in
                let bytes = state.bytes
                guard bytes.count >= 2 else { return (nil, state.closed) }
                var length = 0
                var multiplier = 1
                var index = 1
                while true {
                    guard index < bytes.count else { return (nil, state.closed) }
                    let byte = Int(bytes[index])
                    length += (byte & 0x7F) * multiplier
                    multiplier *= 128
                    index += 1
                    if byte & 0x80 == 0 { break }
                }
                guard bytes.count >= index + length else { return (nil, state.closed) }
                let packet = Packet(type: bytes[0] >> 4, flags: bytes[0] & 0x0F, body: Array(bytes[index..<(index + length)]))
                state.bytes.removeFirst(index + length)
                return (packet, false)
            }
        }
    }

    let channel: any Channel
    let inbox: Inbox

    private init(channel: any Channel, inbox: Inbox) {
        self.channel = channel
        self.inbox = inbox
    }

    /// Connects to `address` (`host:port`) and sends CONNECT; returns the client and CONNACK's
    /// session-present flag.
    static func connect(_ address: String, clientIdentifier: String, cleanSession: Bool) async throws -> (MQTTRawClient, Bool) {
        let parts = address.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { throw Failure.unexpected("address \(address)") }
        let inbox = Inbox()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(inbox) }
            }
            .connect(host: String(parts[0]) == "0.0.0.0" ? "127.0.0.1" : String(parts[0]), port: port).get()
        let client = MQTTRawClient(channel: channel, inbox: inbox)
        var body: [UInt8] = string("MQTT") + [4, cleanSession ? 0x02 : 0x00, 0, 60]
        body += string(clientIdentifier)
        try await client.write(type: 1, flags: 0, body: body)
        let connack = try await client.next("CONNACK")
        guard connack.type == 2, connack.body.count == 2, connack.body[1] == 0 else {
            throw Failure.unexpected("CONNACK \(connack.body)")
        }
        return (client, connack.body[0] & 0x01 != 0)
    }

    static func string(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        return [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
    }

    func write(type: UInt8, flags: UInt8, body: [UInt8]) async throws {
        var header: [UInt8] = [type << 4 | flags]
        var length = body.count
        repeat {
            var byte = UInt8(length % 128)
            length /= 128
            if length > 0 { byte |= 0x80 }
            header.append(byte)
        } while length > 0
        try await channel.writeAndFlush(ByteBuffer(bytes: header + body))
    }

    func next(_ what: String, timeout: Duration = .seconds(20)) async throws -> Packet {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (packet, closed) = inbox.take()
            if let packet { return packet }
            if closed { throw Failure.closed(what) }
            if ContinuousClock.now >= deadline { throw Failure.timeout(what) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func subscribe(_ filter: String, qos: UInt8, identifier: UInt16 = 1) async throws {
        try await write(type: 8, flags: 0x02, body: [UInt8(identifier >> 8), UInt8(identifier & 0xFF)] + Self.string(filter) + [qos])
        while true {
            let packet = try await next("SUBACK")
            if packet.type == 9 {
                guard packet.body.last.map({ $0 <= 2 }) == true else { throw Failure.unexpected("SUBACK \(packet.body)") }
                return
            }
        }
    }

    /// Publishes with QoS 1 and waits for PUBACK.
    func publish(_ topic: String, _ payload: String, retain: Bool = false, identifier: UInt16) async throws {
        let body = Self.string(topic) + [UInt8(identifier >> 8), UInt8(identifier & 0xFF)] + Array(payload.utf8)
        try await write(type: 3, flags: 0x02 | (retain ? 0x01 : 0), body: body)
        while true {
            let packet = try await next("PUBACK")
            if packet.type == 4 { return }
        }
    }

    /// The next PUBLISH (acknowledged if QoS 1).
    func nextPublish() async throws -> Publish {
        while true {
            let packet = try await next("PUBLISH")
            guard packet.type == 3 else { continue }
            let qos = (packet.flags >> 1) & 0x03
            let body = packet.body
            guard body.count >= 2 else { throw Failure.unexpected("short PUBLISH") }
            let topicLength = Int(body[0]) << 8 | Int(body[1])
            var index = 2 + topicLength
            let topic = String(decoding: body[2..<index], as: UTF8.self)
            if qos > 0 {
                let identifier = Array(body[index..<(index + 2)])
                index += 2
                try await write(type: 4, flags: 0, body: identifier)
            }
            return Publish(
                topic: topic, payload: String(decoding: body[index...], as: UTF8.self), qos: qos, retain: packet.flags & 0x01 != 0)
        }
    }

    func disconnect() async throws {
        try await write(type: 14, flags: 0, body: [])
        try? await channel.close()
    }
}
