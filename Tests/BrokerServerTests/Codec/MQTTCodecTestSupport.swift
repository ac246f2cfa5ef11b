import NIOCore
import Testing

@testable import BrokerServer

/// Helpers shared by the codec tests.
enum MQTTCodecTestSupport {
    static func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

    static func buffer(_ string: String) -> ByteBuffer { ByteBuffer(string: string) }

    /// The decoder that receives `packet`: server side for client packets, client side otherwise.
    static func receivingDecoder(for packet: MQTTPacket, version: MQTTProtocolVersion) -> MQTTDecoder {
        if case .connect = packet { return MQTTDecoder() }
        var role: MQTTDecoder.Role = packet.type.isSentByClient ? .server : .client
        if case .publish(let publish) = packet, !publish.properties.subscriptionIdentifiers.isEmpty {
            role = .client
        }
        return MQTTDecoder(role: role, version: version)
    }

    /// Encodes `packet` for `version` into fresh bytes.
    static func encode(_ packet: MQTTPacket, version: MQTTProtocolVersion) throws -> ByteBuffer {
        var out = ByteBuffer()
        try packet.encode(version: version, into: &out)
        return out
    }

    /// Runs the decoder over `bytes` until it needs more input; returns the packets and the
    /// bytes left over.
    static func decodeAll(_ bytes: ByteBuffer, with decoder: inout MQTTDecoder) throws(MQTTDecodeError) -> (packets: [MQTTPacket], leftover: Int) {
        var input = bytes
        var packets: [MQTTPacket] = []
        while let packet = try decoder.decodePacket(buffer: &input) {
            packets.append(packet)
        }
        return (packets, input.readableBytes)
    }

    /// Decodes exactly one packet from `bytes` with `decoder`, requiring all bytes consumed.
    static func decodeOne(_ bytes: ByteBuffer, with decoder: MQTTDecoder) throws(MQTTDecodeError) -> MQTTPacket? {
        var decoder = decoder
        let (packets, leftover) = try decodeAll(bytes, with: &decoder)
        guard packets.count == 1, leftover == 0 else { return nil }
        return packets[0]
    }

    /// The error decoding `bytes` produces, or `nil` if it decodes.
    static func decodeError(_ bytes: [UInt8], with decoder: MQTTDecoder) -> MQTTDecodeError? {
        var decoder = decoder
        do throws(MQTTDecodeError) {
            _ = try decodeAll(buffer(bytes), with: &decoder)
            return nil
        } catch {
            return error
        }
    }

    /// Every property allowed in `context`, with values the decoder accepts.
    static func fullProperties(_ context: MQTTPropertyContext) -> MQTTProperties {
        func allowed(_ identifier: MQTTPropertyIdentifier) -> Bool { identifier.allowedContexts.contains(context) }
        var properties = MQTTProperties()
        if allowed(.payloadFormatIndicator) { properties.payloadFormatIndicator = .utf8 }
        if allowed(.messageExpiryInterval) { properties.messageExpiryInterval = 3_600 }
        if allowed(.contentType) { properties.contentType = "application/json" }
        if allowed(.responseTopic) { properties.responseTopic = "reply/to/me" }
        if allowed(.correlationData) { properties.correlationData = buffer([0, 1, 2, 0xFF]) }
        if allowed(.subscriptionIdentifier) {
            properties.subscriptionIdentifiers = context == .publish ? [1, 127, 128, 16_384, 268_435_455] : [2_097_152]
        }
        if allowed(.sessionExpiryInterval) { properties.sessionExpiryInterval = 0xFFFF_FFFF }
        if allowed(.assignedClientIdentifier) { properties.assignedClientIdentifier = "auto-4711" }
        if allowed(.serverKeepAlive) { properties.serverKeepAlive = 30 }
        if allowed(.authenticationMethod) { properties.authenticationMethod = "SCRAM-SHA-256" }
        if allowed(.authenticationData) { properties.authenticationData = buffer([9, 8, 7]) }
        if allowed(.requestProblemInformation) { properties.requestProblemInformation = false }
        if allowed(.willDelayInterval) { properties.willDelayInterval = 10 }
        if allowed(.requestResponseInformation) { properties.requestResponseInformation = true }
        if allowed(.responseInformation) { properties.responseInformation = "responses/" }
        if allowed(.serverReference) { properties.serverReference = "broker-2:1883" }
        if allowed(.reasonString) { properties.reasonString = "because ✓" }
        if allowed(.receiveMaximum) { properties.receiveMaximum = 65_535 }
        if allowed(.topicAliasMaximum) { properties.topicAliasMaximum = 0 }
        if allowed(.topicAlias) { properties.topicAlias = 7 }
        if allowed(.maximumQoS) { properties.maximumQoS = .atLeastOnce }
        if allowed(.retainAvailable) { properties.retainAvailable = false }
        if allowed(.userProperty) {
            properties.userProperties = [
                MQTTUserProperty(name: "k", value: "1"),
                MQTTUserProperty(name: "k", value: "2"),
                MQTTUserProperty(name: "ünïcødé", value: ""),
            ]
        }
        if allowed(.maximumPacketSize) { properties.maximumPacketSize = 1 << 20 }
        if allowed(.wildcardSubscriptionAvailable) { properties.wildcardSubscriptionAvailable = true }
        if allowed(.subscriptionIdentifierAvailable) { properties.subscriptionIdentifierAvailable = false }
        if allowed(.sharedSubscriptionAvailable) { properties.sharedSubscriptionAvailable = true }
        return properties
    }

    /// Properties for `context` only if `version` carries them.
    static func properties(_ context: MQTTPropertyContext, _ version: MQTTProtocolVersion) -> MQTTProperties {
        version == .v5 ? fullProperties(context) : MQTTProperties()
    }

    /// One instance of every packet that exists in `version`, v5 ones with every property they
    /// may carry.
    static func samplePackets(_ version: MQTTProtocolVersion) -> [MQTTPacket] {
        let v5 = version == .v5
        var packets: [MQTTPacket] = [
            .connect(
                MQTTConnect(
                    protocolVersion: version,
                    cleanStart: false,
                    keepAlive: 0xFFFF,
                    clientIdentifier: "client-1",
                    will: MQTTWill(
                        topic: "clients/client-1/status",
                        payload: buffer("offline"),
                        qos: .exactlyOnce,
                        retain: true,
                        properties: properties(.will, version)
                    ),
                    userName: "alice",
                    password: buffer([0, 0xFF, 0x10]),
                    properties: properties(.connect, version)
                )),
            .connect(MQTTConnect(protocolVersion: version, keepAlive: 5, clientIdentifier: "minimal")),
            .connack(
                MQTTConnAck(
                    sessionPresent: version != .v3_1, reasonCode: .success, properties: properties(.connack, version))),
            .connack(MQTTConnAck(reasonCode: .notAuthorized)),
            .publish(MQTTPublish(topicName: "a", payload: ByteBuffer())),
            .publish(
                MQTTPublish(
                    dup: true, qos: .atLeastOnce, retain: true, topicName: "sensors/temp/ü",
                    packetIdentifier: 1, properties: properties(.publish, version), payload: buffer("21.5 °C"))),
            .publish(
                MQTTPublish(
                    qos: .exactlyOnce, topicName: "x/y", packetIdentifier: 0xFFFF,
                    payload: ByteBuffer(repeating: 0xAB, count: 20_000))),
            .puback(MQTTPubAck(packetIdentifier: 1)),
            .pubrec(MQTTPubRec(packetIdentifier: 2)),
            .pubrel(MQTTPubRel(packetIdentifier: 3)),
            .pubcomp(MQTTPubComp(packetIdentifier: 4)),
            .subscribe(
                MQTTSubscribe(
                    packetIdentifier: 10,
                    properties: properties(.subscribe, version),
                    subscriptions: [
                        MQTTSubscription(topicFilter: "a/+/c", qos: .atLeastOnce),
                        MQTTSubscription(
                            topicFilter: "#", qos: .exactlyOnce, noLocal: v5, retainAsPublished: v5,
                            retainHandling: v5 ? .doNotSend : .sendOnSubscribe),
                        MQTTSubscription(topicFilter: "$share/group/sensors/#", retainHandling: v5 ? .sendOnNewSubscribe : .sendOnSubscribe),
                    ])),
            .suback(
                MQTTSubAck(
                    packetIdentifier: 10, properties: properties(.suback, version),
                    reasonCodes: version == .v3_1
                        ? [.grantedQoS1, .grantedQoS2, .grantedQoS0]
                        : [.grantedQoS1, .grantedQoS2, .unspecifiedError])),
            .unsubscribe(
                MQTTUnsubscribe(
                    packetIdentifier: 11, properties: properties(.unsubscribe, version), topicFilters: ["a/+/c", "#"])),
            .unsuback(
                MQTTUnsubAck(
                    packetIdentifier: 11, properties: properties(.unsuback, version),
                    reasonCodes: v5 ? [.success, .noSubscriptionExisted] : [])),
            .pingreq,
            .pingresp,
            .disconnect(MQTTDisconnect()),
        ]
        if v5 {
            packets += [
                .publish(
                    MQTTPublish(
                        qos: .atLeastOnce, topicName: "", packetIdentifier: 5,
                        properties: { var p = MQTTProperties(); p.topicAlias = 3; return p }(), payload: buffer("aliased"))),
                .puback(MQTTPubAck(packetIdentifier: 1, reasonCode: .noMatchingSubscribers)),
                .puback(MQTTPubAck(packetIdentifier: 1, reasonCode: .quotaExceeded, properties: fullProperties(.puback))),
                .pubrec(MQTTPubRec(packetIdentifier: 2, reasonCode: .payloadFormatInvalid, properties: fullProperties(.pubrec))),
                .pubrel(MQTTPubRel(packetIdentifier: 3, reasonCode: .packetIdentifierNotFound, properties: fullProperties(.pubrel))),
                .pubcomp(MQTTPubComp(packetIdentifier: 4, properties: fullProperties(.pubcomp))),
                .connack(MQTTConnAck(reasonCode: .serverMoved, properties: fullProperties(.connack))),
                .disconnect(MQTTDisconnect(reasonCode: .sessionTakenOver)),
                .disconnect(MQTTDisconnect(reasonCode: .disconnectWithWillMessage, properties: fullProperties(.disconnect))),
                .auth(MQTTAuth()),
                .auth(MQTTAuth(reasonCode: .continueAuthentication, properties: fullProperties(.auth))),
            ]
        }
        return packets
    }
}
