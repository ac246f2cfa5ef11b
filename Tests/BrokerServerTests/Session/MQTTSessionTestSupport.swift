import NIOCore
import Testing

@testable import BrokerServer

/// A session under test with a driver-owned clock.
struct SessionHarness {
    var session: MQTTSession
    var now: UInt64 = 1_000_000_000

    init(_ configuration: MQTTSessionConfiguration = MQTTSessionConfiguration(), connection: UInt64 = 7, stored: MQTTSessionState? = nil) {
        session = MQTTSession(configuration: configuration, connectionNumber: connection, storedState: stored)
    }

    static let second: UInt64 = 1_000_000_000

    mutating func handle(_ event: MQTTSessionEvent) -> [MQTTSessionAction] {
        session.handle(event, now: now)
    }

    mutating func receive(_ packet: MQTTPacket) -> [MQTTSessionAction] {
        handle(.packetReceived(packet))
    }

    /// Connects and returns the CONNACK actions.
    @discardableResult
    mutating func connect(_ connect: MQTTConnect) -> [MQTTSessionAction] {
        receive(.connect(connect))
    }

    mutating func advance(seconds: Double) {
        now += UInt64(seconds * Double(Self.second))
    }
}

enum SessionFixtures {
    static func payload(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    static func connect(
        _ version: MQTTProtocolVersion, id: String = "client", clean: Bool = true, keepAlive: UInt16 = 0,
        will: MQTTWill? = nil, properties: MQTTProperties = MQTTProperties()
    ) -> MQTTConnect {
        MQTTConnect(
            protocolVersion: version, cleanStart: clean, keepAlive: keepAlive, clientIdentifier: id, will: will,
            properties: properties)
    }

    static func v5Properties(_ body: (inout MQTTProperties) -> Void) -> MQTTProperties {
        var properties = MQTTProperties()
        body(&properties)
        return properties
    }

    /// The CONNACK properties the default configuration always announces.
    static func defaultConnAckProperties(_ body: (inout MQTTProperties) -> Void = { _ in }) -> MQTTProperties {
        var properties = MQTTProperties()
        properties.receiveMaximum = 64
        properties.maximumPacketSize = 1 << 20
        properties.topicAliasMaximum = 16
        body(&properties)
        return properties
    }

    static func delivery(
        _ topic: String = "t", _ text: String = "m", qos: MQTTQoS = .atLeastOnce, retain: Bool = false,
        properties: MQTTProperties = MQTTProperties(), ids: [UInt32] = [], receivedAt: UInt64 = 1_000_000_000
    ) -> MQTTDelivery {
        MQTTDelivery(
            topic: topic, payload: payload(text), qos: qos, retain: retain, properties: properties,
            subscriptionIdentifiers: ids, receivedAt: receivedAt)
    }

    static func publish(
        _ topic: String, _ text: String = "m", qos: MQTTQoS = .atMostOnce, id: UInt16? = nil, dup: Bool = false,
        retain: Bool = false, properties: MQTTProperties = MQTTProperties()
    ) -> MQTTPublish {
        MQTTPublish(dup: dup, qos: qos, retain: retain, topicName: topic, packetIdentifier: id, properties: properties, payload: payload(text))
    }

    static func inbound(_ topic: String, _ text: String = "m", qos: MQTTQoS = .atMostOnce, id: UInt16? = nil, client: String = "client") -> MQTTInboundMessage {
        MQTTInboundMessage(
            clientIdentifier: client, topic: topic, payload: payload(text), qos: qos, retain: false, packetIdentifier: id,
            properties: MQTTProperties())
    }

    /// The packets of all `send` actions, in order.
    static func sent(_ actions: [MQTTSessionAction]) -> [MQTTPacket] {
        actions.flatMap { action -> [MQTTPacket] in
            if case .send(let packets) = action { return packets }
            return []
        }
    }
}
