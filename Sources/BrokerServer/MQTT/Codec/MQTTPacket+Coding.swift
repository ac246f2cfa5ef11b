import NIOCore

extension MQTTPacket {
    /// The largest remaining length MQTT can express.
    public static let maximumRemainingLength = 268_435_455

    /// Decodes the body of a packet whose fixed header (type and flags) has been checked.
    static func decode(
        type: MQTTPacketType,
        flags: UInt8,
        body: inout ByteBuffer,
        context: MQTTDecodingContext
    ) throws(MQTTDecodeError) -> MQTTPacket {
        switch type {
        case .connect: return .connect(try MQTTConnect(decoding: &body, context: context))
        case .connack: return .connack(try MQTTConnAck(decoding: &body, context: context))
        case .publish: return .publish(try MQTTPublish(decoding: &body, flags: flags, context: context))
        case .puback: return .puback(try MQTTPubAck(decoding: &body, context: context))
        case .pubrec: return .pubrec(try MQTTPubRec(decoding: &body, context: context))
        case .pubrel: return .pubrel(try MQTTPubRel(decoding: &body, context: context))
        case .pubcomp: return .pubcomp(try MQTTPubComp(decoding: &body, context: context))
        case .subscribe: return .subscribe(try MQTTSubscribe(decoding: &body, context: context))
        case .suback: return .suback(try MQTTSubAck(decoding: &body, context: context))
        case .unsubscribe: return .unsubscribe(try MQTTUnsubscribe(decoding: &body, context: context))
        case .unsuback: return .unsuback(try MQTTUnsubAck(decoding: &body, context: context))
        case .pingreq, .pingresp:
            guard body.readableBytes == 0 else { throw .trailingBytes(type, count: body.readableBytes) }
            return type == .pingreq ? .pingreq : .pingresp
        case .disconnect: return .disconnect(try MQTTDisconnect(decoding: &body, context: context))
        case .auth: return .auth(try MQTTAuth(decoding: &body, context: context))
        }
    }

    /// Appends this packet, encoded for `version`, to `out`. CONNECT is always encoded in its own
    /// ``MQTTConnect/protocolVersion``. For 3.1 and 3.1.1, v5-only fields (properties, and the
    /// reason codes of PUBACK/PUBREC/PUBREL/PUBCOMP/UNSUBACK/DISCONNECT) are left out; CONNACK
    /// and SUBACK codes must have a v3 equivalent. On error `out` is unchanged.
    ///
    /// - Parameter maximumPacketSize: the peer's limit (its v5 Maximum Packet Size), if any.
    public func encode(
        version: MQTTProtocolVersion,
        into out: inout ByteBuffer,
        maximumPacketSize: Int? = nil
    ) throws(MQTTEncodeError) {
        let start = out.writerIndex
        do throws(MQTTEncodeError) {
            try self.encodeUnchecked(version: version, into: &out)
        } catch {
            out.moveWriterIndex(to: start)
            throw error
        }
        let size = out.writerIndex - start
        if let maximumPacketSize, size > maximumPacketSize {
            out.moveWriterIndex(to: start)
            throw .packetTooLarge(size: size, limit: maximumPacketSize)
        }
    }

    private func encodeUnchecked(version: MQTTProtocolVersion, into out: inout ByteBuffer) throws(MQTTEncodeError) {
        let type = self.type
        guard type.exists(in: version) else { throw .packetNotInVersion(type, version) }
        let flags: UInt8
        if case .publish(let publish) = self {
            flags = publish.flags
        } else {
            flags = type.requiredFlags
        }
        out.writeInteger(type.rawValue << 4 | flags)
        switch self {
        case .publish(let publish):
            try out.writeMQTTVariableByteIntegerPrefixed(trailingLength: publish.payload.readableBytes) {
                (out: inout ByteBuffer) throws(MQTTEncodeError) in
                try publish.encodeVariableHeader(into: &out, version: version)
            }
            out.writeImmutableBuffer(publish.payload)
        default:
            try out.writeMQTTVariableByteIntegerPrefixed { (out: inout ByteBuffer) throws(MQTTEncodeError) in
                try self.encodeBody(into: &out, version: version)
            }
        }
    }

    private func encodeBody(into out: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        switch self {
        case .connect(let connect): try connect.encode(into: &out)
        case .connack(let connack): try connack.encode(into: &out, version: version)
        case .publish(let publish):
            try publish.encodeVariableHeader(into: &out, version: version)
            out.writeImmutableBuffer(publish.payload)
        case .puback(let ack): try ack.encode(into: &out, version: version)
        case .pubrec(let ack): try ack.encode(into: &out, version: version)
        case .pubrel(let ack): try ack.encode(into: &out, version: version)
        case .pubcomp(let ack): try ack.encode(into: &out, version: version)
        case .subscribe(let subscribe): try subscribe.encode(into: &out, version: version)
        case .suback(let suback): try suback.encode(into: &out, version: version)
        case .unsubscribe(let unsubscribe): try unsubscribe.encode(into: &out, version: version)
        case .unsuback(let unsuback): try unsuback.encode(into: &out, version: version)
        case .pingreq, .pingresp: break
        case .disconnect(let disconnect): try disconnect.encode(into: &out, version: version)
        case .auth(let auth): try auth.encode(into: &out, version: version)
        }
    }
}
