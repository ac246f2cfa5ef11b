import NIOCore
import Testing

@testable import BrokerServer

@Suite("MQTT codec round trips")
struct MQTTRoundTripTests {
    typealias Support = MQTTCodecTestSupport

    @Test("every packet round trips in every version it exists in", arguments: MQTTProtocolVersion.allCases)
    func everyPacketRoundTrips(version: MQTTProtocolVersion) throws {
        let packets = Support.samplePackets(version)
        #expect(Set(packets.map(\.type)) == Set(MQTTPacketType.allCases.filter { $0.exists(in: version) }))
        for packet in packets {
            let bytes = try Support.encode(packet, version: version)
            let decoded = try Support.decodeOne(bytes, with: Support.receivingDecoder(for: packet, version: version))
            #expect(decoded == packet, "\(packet.type) in \(version)")
        }
    }

    @Test("the round-tripped v5 samples carry every property")
    func everyPropertyIsCovered() {
        let packets = Support.samplePackets(.v5)
        var seen = Set<MQTTPropertyIdentifier>()
        func collect(_ properties: MQTTProperties) {
            for identifier in MQTTPropertyIdentifier.allCases where Self.has(properties, identifier) {
                seen.insert(identifier)
            }
        }
        for packet in packets {
            switch packet {
            case .connect(let c):
                collect(c.properties)
                if let will = c.will { collect(will.properties) }
            case .connack(let p): collect(p.properties)
            case .publish(let p): collect(p.properties)
            case .puback(let p): collect(p.properties)
            case .pubrec(let p): collect(p.properties)
            case .pubrel(let p): collect(p.properties)
            case .pubcomp(let p): collect(p.properties)
            case .subscribe(let p): collect(p.properties)
            case .suback(let p): collect(p.properties)
            case .unsubscribe(let p): collect(p.properties)
            case .unsuback(let p): collect(p.properties)
            case .disconnect(let p): collect(p.properties)
            case .auth(let p): collect(p.properties)
            case .pingreq, .pingresp: break
            }
        }
        #expect(seen == Set(MQTTPropertyIdentifier.allCases))
    }

    @Test("v3 encoding leaves out v5-only fields")
    func v3DropsV5Fields() throws {
        let ack = MQTTPacket.puback(MQTTPubAck(packetIdentifier: 9, reasonCode: .quotaExceeded, properties: Support.fullProperties(.puback)))
        let bytes = try Support.encode(ack, version: .v3_1_1)
        #expect(Array(bytes.readableBytesView) == [0x40, 0x02, 0x00, 0x09])
        let decoded = try Support.decodeOne(bytes, with: MQTTDecoder(role: .client, version: .v3_1_1))
        #expect(decoded == .puback(MQTTPubAck(packetIdentifier: 9)))
    }

    @Test("a server decoder learns the version from CONNECT")
    func serverLearnsVersion() throws {
        for version in MQTTProtocolVersion.allCases {
            var decoder = MQTTDecoder()
            #expect(decoder.state == .awaitingConnect)
            var stream = try Support.encode(.connect(MQTTConnect(protocolVersion: version, clientIdentifier: "c")), version: version)
            var publish = try Support.encode(
                .publish(MQTTPublish(qos: .atLeastOnce, topicName: "t", packetIdentifier: 3, payload: Support.buffer("p"))),
                version: version)
            stream.writeBuffer(&publish)
            let (packets, leftover) = try Support.decodeAll(stream, with: &decoder)
            #expect(packets.count == 2)
            #expect(leftover == 0)
            #expect(decoder.state == .connected(version))
        }
    }

    @Test("a client decoder can be told the version")
    func clientSetsVersion() throws {
        var decoder = MQTTDecoder(role: .client, version: .v5)
        var v3Connack = MQTTCodecTestSupport.buffer([0x20, 0x02, 0x01, 0x00])
        // Read as 5.0 the CONNACK lacks its property length.
        var probe = decoder
        #expect(throws: MQTTDecodeError.truncated(field: "property length")) {
            _ = try probe.decodePacket(buffer: &v3Connack)
        }
        decoder.setProtocolVersion(.v3_1_1)
        #expect(decoder.state == .connected(.v3_1_1))
        v3Connack.moveReaderIndex(to: 0)
        #expect(try decoder.decodePacket(buffer: &v3Connack) == .connack(MQTTConnAck(sessionPresent: true)))
    }

    @Test("CONNECT fed one byte at a time decodes once complete")
    func connectDripFeed() throws {
        let connect = Support.samplePackets(.v5)[0]
        let bytes = try Support.encode(connect, version: .v5)
        var decoder = MQTTDecoder()
        var input = ByteBuffer()
        var decoded: [MQTTPacket] = []
        for byte in bytes.readableBytesView {
            input.writeInteger(byte)
            if let packet = try decoder.decodePacket(buffer: &input) { decoded.append(packet) }
        }
        #expect(decoded == [connect])
        #expect(input.readableBytes == 0)
    }

    @Test("PUBLISH payload is a slice of the received bytes")
    func publishPayloadIsSlice() throws {
        let packet = MQTTPacket.publish(MQTTPublish(topicName: "t", payload: ByteBuffer(repeating: 7, count: 4096)))
        let bytes = try Support.encode(packet, version: .v3_1_1)
        let decoded = try #require(try Support.decodeOne(bytes, with: MQTTDecoder(role: .client, version: .v3_1_1)))
        guard case .publish(let publish) = decoded else {
            Issue.record("not a publish")
            return
        }
        let sameStorage = bytes.withUnsafeReadableBytes { whole in
            publish.payload.withUnsafeReadableBytes { payload in
                payload.baseAddress.map { base in
                    whole.baseAddress.map { $0 <= base && base + payload.count <= $0 + whole.count } ?? false
                } ?? false
            }
        }
        #expect(sameStorage)
    }

    private static func has(_ p: MQTTProperties, _ identifier: MQTTPropertyIdentifier) -> Bool {
        switch identifier {
        case .payloadFormatIndicator: return p.payloadFormatIndicator != nil
        case .messageExpiryInterval: return p.messageExpiryInterval != nil
        case .contentType: return p.contentType != nil
        case .responseTopic: return p.responseTopic != nil
        case .correlationData: return p.correlationData != nil
        case .subscriptionIdentifier: return !p.subscriptionIdentifiers.isEmpty
        case .sessionExpiryInterval: return p.sessionExpiryInterval != nil
        case .assignedClientIdentifier: return p.assignedClientIdentifier != nil
        case .serverKeepAlive: return p.serverKeepAlive != nil
        case .authenticationMethod: return p.authenticationMethod != nil
        case .authenticationData: return p.authenticationData != nil
        case .requestProblemInformation: return p.requestProblemInformation != nil
        case .willDelayInterval: return p.willDelayInterval != nil
        case .requestResponseInformation: return p.requestResponseInformation != nil
        case .responseInformation: return p.responseInformation != nil
        case .serverReference: return p.serverReference != nil
        case .reasonString: return p.reasonString != nil
        case .receiveMaximum: return p.receiveMaximum != nil
        case .topicAliasMaximum: return p.topicAliasMaximum != nil
        case .topicAlias: return p.topicAlias != nil
        case .maximumQoS: return p.maximumQoS != nil
        case .retainAvailable: return p.retainAvailable != nil
        case .userProperty: return !p.userProperties.isEmpty
        case .maximumPacketSize: return p.maximumPacketSize != nil
        case .wildcardSubscriptionAvailable: return p.wildcardSubscriptionAvailable != nil
        case .subscriptionIdentifierAvailable: return p.subscriptionIdentifierAvailable != nil
        case .sharedSubscriptionAvailable: return p.sharedSubscriptionAvailable != nil
        }
    }
}
