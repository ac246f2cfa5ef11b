import NIOCore

/// Frames and decodes MQTT control packets.
///
/// Reads the fixed header and remaining length, rejects packets larger than
/// ``Configuration/maximumPacketSize`` before buffering their body, then decodes the body
/// into an ``MQTTPacket`` with the strict validation of ``MQTTDecodeError``.
///
/// The protocol version is decoder state: a server-side decoder starts in
/// ``State/awaitingConnect``, accepts only CONNECT, and switches to the version that CONNECT
/// announces; a client-side decoder is created with the version its own CONNECT used.
public struct MQTTDecoder: NIOSingleStepByteToMessageDecoder, Sendable {
    /// Decoded packets.
    public typealias InboundOut = MQTTPacket

    /// Which end of the connection decodes; packets of the other direction are protocol errors.
    public enum Role: Hashable, Sendable {
        /// Decodes what clients send.
        case server
        /// Decodes what servers send.
        case client
    }

    /// Where the connection is.
    public enum State: Hashable, Sendable {
        /// Server side, before CONNECT: only CONNECT is accepted.
        case awaitingConnect
        /// Every packet is decoded for this version.
        case connected(MQTTProtocolVersion)
    }

    /// Limits and policies.
    public struct Configuration: Hashable, Sendable {
        /// The largest whole packet (fixed header included) accepted; larger ones fail with
        /// ``MQTTDecodeError/packetTooLarge(size:limit:)`` as soon as their header is read.
        public var maximumPacketSize: Int
        /// Reject strings containing control characters or Unicode non-characters (the
        /// specification's "SHOULD NOT"s); off by default.
        public var rejectDiscouragedCodePoints: Bool
        /// Check that payloads marked with Payload Format Indicator 1 are valid UTF-8.
        public var validatePayloadFormat: Bool

        /// Limits and policies; the defaults accept packets up to 1 MiB.
        public init(maximumPacketSize: Int = 1 << 20, rejectDiscouragedCodePoints: Bool = false, validatePayloadFormat: Bool = true) {
            self.maximumPacketSize = maximumPacketSize
            self.rejectDiscouragedCodePoints = rejectDiscouragedCodePoints
            self.validatePayloadFormat = validatePayloadFormat
        }
    }

    /// Which side this decoder runs on.
    public let role: Role
    /// The limits and policies in force.
    public let configuration: Configuration
    /// The current state; changes when a server-side decoder decodes CONNECT.
    public private(set) var state: State

    /// A server-side decoder waiting for CONNECT.
    public init(configuration: Configuration = Configuration()) {
        self.role = .server
        self.configuration = configuration
        self.state = .awaitingConnect
    }

    /// A decoder for a connection whose version is already known (client side, or a server
    /// that decoded CONNECT elsewhere).
    public init(role: Role, version: MQTTProtocolVersion, configuration: Configuration = Configuration()) {
        self.role = role
        self.configuration = configuration
        self.state = .connected(version)
    }

    /// Switches to `version` for every following packet: a client tells its decoder the version
    /// of the CONNECT it sent (e.g. when retrying 3.1.1 after a 5.0 refusal).
    public mutating func setProtocolVersion(_ version: MQTTProtocolVersion) {
        self.state = .connected(version)
    }

    /// Decodes the next packet, `nil` if more bytes are needed; throws ``MQTTDecodeError``.
    public mutating func decode(buffer: inout ByteBuffer) throws -> MQTTPacket? {
        try self.decodePacket(buffer: &buffer)
    }

    /// Decodes what is left at end of input; a partial packet stays unread.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> MQTTPacket? {
        try self.decodePacket(buffer: &buffer)
    }

    /// One step with the typed error.
    mutating func decodePacket(buffer: inout ByteBuffer) throws(MQTTDecodeError) -> MQTTPacket? {
        let start = buffer.readerIndex
        guard let firstByte: UInt8 = buffer.getInteger(at: start) else { return nil }
        guard let length = try buffer.getMQTTVariableByteInteger(at: start + 1) else { return nil }
        let (remainingLength, lengthBytes) = length
        let packetSize = 1 + lengthBytes + remainingLength
        guard packetSize <= configuration.maximumPacketSize else {
            throw .packetTooLarge(size: packetSize, limit: configuration.maximumPacketSize)
        }
        let (type, version) = try self.checkFixedHeader(firstByte)
        guard buffer.readableBytes >= packetSize else { return nil }
        buffer.moveReaderIndex(forwardBy: 1 + lengthBytes)
        guard var body = buffer.readSlice(length: remainingLength) else { return nil }
        let context = MQTTDecodingContext(
            version: version ?? .v5,
            role: role,
            rejectDiscouragedCodePoints: configuration.rejectDiscouragedCodePoints,
            validatePayloadFormat: configuration.validatePayloadFormat
        )
        let packet = try MQTTPacket.decode(type: type, flags: firstByte & 0x0F, body: &body, context: context)
        if case .connect(let connect) = packet {
            state = .connected(connect.protocolVersion)
        }
        return packet
    }

    /// Checks packet type, flags, direction and state; returns the type and the version to
    /// decode with (`nil` for CONNECT, whose body announces it).
    private func checkFixedHeader(_ firstByte: UInt8) throws(MQTTDecodeError) -> (MQTTPacketType, MQTTProtocolVersion?) {
        let rawType = firstByte >> 4
        let flags = firstByte & 0x0F
        guard let type = MQTTPacketType(rawValue: rawType) else { throw .reservedPacketType(rawType) }
        let version: MQTTProtocolVersion?
        switch state {
        case .awaitingConnect:
            guard type == .connect else { throw .unexpectedPacket(type) }
            version = nil
        case .connected(let current):
            guard type.exists(in: current) else { throw .reservedPacketType(rawType) }
            guard type != .connect else { throw .unexpectedPacket(type) }
            version = current
        }
        let allowedByDirection = role == .server ? type.isSentByClient : type.isSentByServer
        guard allowedByDirection else { throw .unexpectedPacket(type) }
        if type != .publish && flags != type.requiredFlags {
            throw .invalidFixedHeaderFlags(type, flags: flags)
        }
        return (type, version)
    }
}
