import NIOCore

/// CONNECT: the first packet a client sends. Its protocol name and level select the version
/// of every later packet on the connection.
public struct MQTTConnect: Hashable, Sendable {
    /// The version announced (and used to encode this packet).
    public var protocolVersion: MQTTProtocolVersion
    /// Clean Start (5.0) / Clean Session (3.1, 3.1.1).
    public var cleanStart: Bool
    /// Keep alive in seconds; 0 disables it.
    public var keepAlive: UInt16
    /// The client identifier; may be empty in 5.0, and in 3.1.1 with clean session.
    public var clientIdentifier: String
    /// The will message, if the client set one.
    public var will: MQTTWill?
    /// The user name, if the user name flag is set.
    public var userName: String?
    /// The password, if the password flag is set (binary data).
    public var password: ByteBuffer?
    /// CONNECT properties (5.0 only).
    public var properties: MQTTProperties

    /// Creates a CONNECT for `protocolVersion`.
    public init(
        protocolVersion: MQTTProtocolVersion,
        cleanStart: Bool = true,
        keepAlive: UInt16 = 60,
        clientIdentifier: String,
        will: MQTTWill? = nil,
        userName: String? = nil,
        password: ByteBuffer? = nil,
        properties: MQTTProperties = MQTTProperties()
    ) {
        self.protocolVersion = protocolVersion
        self.cleanStart = cleanStart
        self.keepAlive = keepAlive
        self.clientIdentifier = clientIdentifier
        self.will = will
        self.userName = userName
        self.password = password
        self.properties = properties
    }

    /// The longest client identifier MQTT 3.1 allows.
    public static let v3_1MaximumClientIdentifierLength = 23
}

extension MQTTConnect {
    private enum Flag {
        static let reserved: UInt8 = 0x01
        static let cleanStart: UInt8 = 0x02
        static let will: UInt8 = 0x04
        static let willQoSShift: UInt8 = 3
        static let willQoSMask: UInt8 = 0x18
        static let willRetain: UInt8 = 0x20
        static let password: UInt8 = 0x40
        static let userName: UInt8 = 0x80
    }

    init(decoding body: inout ByteBuffer, context: MQTTDecodingContext) throws(MQTTDecodeError) {
        let policy = context.rejectDiscouragedCodePoints
        let name = try body.readMQTTString("protocol name", rejectDiscouraged: policy)
        let level: UInt8 = try body.readMQTTInteger("protocol level")
        guard let version = MQTTProtocolVersion(protocolName: name, level: level) else {
            throw .unsupportedProtocolVersion(name: name, level: level)
        }
        let flags: UInt8 = try body.readMQTTInteger("connect flags")
        guard flags & Flag.reserved == 0 else { throw .connectReservedFlag }
        let hasWill = flags & Flag.will != 0
        let willQoSBits = (flags & Flag.willQoSMask) >> Flag.willQoSShift
        guard let willQoS = MQTTQoS(rawValue: willQoSBits) else { throw .invalidQoS(.connect) }
        let willRetain = flags & Flag.willRetain != 0
        if !hasWill && (willQoS != .atMostOnce || willRetain) { throw .willFlagsWithoutWill }
        let hasUserName = flags & Flag.userName != 0
        let hasPassword = flags & Flag.password != 0
        if version != .v5 && hasPassword && !hasUserName { throw .passwordWithoutUserName }
        let keepAlive: UInt16 = try body.readMQTTInteger("keep alive")
        let properties =
            version == .v5
            ? try MQTTProperties.decode(from: &body, context: .connect, rejectDiscouraged: policy)
            : MQTTProperties()

        let clientIdentifier = try body.readMQTTString("client identifier", rejectDiscouraged: policy)
        var will: MQTTWill?
        if hasWill {
            let willProperties =
                version == .v5
                ? try MQTTProperties.decode(from: &body, context: .will, rejectDiscouraged: policy)
                : MQTTProperties()
            let topic = try body.readMQTTString("will topic", rejectDiscouraged: policy)
            guard MQTTTopic.isValidTopicName(topic) else {
                throw topic.isEmpty ? .emptyTopicName : .invalidTopicName(topic)
            }
            let payload = try body.readMQTTBinary("will payload")
            if context.validatePayloadFormat && willProperties.payloadFormatIndicator == .utf8
                && !payload.withUnsafeReadableBytes(MQTTUTF8.isWellFormed)
            {
                throw .payloadFormatInvalid
            }
            will = MQTTWill(topic: topic, payload: payload, qos: willQoS, retain: willRetain, properties: willProperties)
        }
        let userName = hasUserName ? try body.readMQTTString("user name", rejectDiscouraged: policy) : nil
        let password = hasPassword ? try body.readMQTTBinary("password") : nil
        guard body.readableBytes == 0 else { throw .trailingBytes(.connect, count: body.readableBytes) }

        let cleanStart = flags & Flag.cleanStart != 0
        switch version {
        case .v3_1:
            guard (1...Self.v3_1MaximumClientIdentifierLength).contains(clientIdentifier.utf8.count) else {
                throw .clientIdentifierNotValid(clientIdentifier)
            }
        case .v3_1_1:
            guard !clientIdentifier.isEmpty || cleanStart else { throw .clientIdentifierNotValid(clientIdentifier) }
        case .v5:
            break
        }
        self.init(
            protocolVersion: version,
            cleanStart: cleanStart,
            keepAlive: keepAlive,
            clientIdentifier: clientIdentifier,
            will: will,
            userName: userName,
            password: password,
            properties: properties
        )
    }

    func encode(into out: inout ByteBuffer) throws(MQTTEncodeError) {
        let version = protocolVersion
        if version != .v5 && password != nil && userName == nil { throw .connectFlagsNotRepresentable }
        try out.writeMQTTString(version.protocolName, "protocol name")
        out.writeInteger(version.rawValue)
        var flags: UInt8 = cleanStart ? Flag.cleanStart : 0
        if let will {
            guard MQTTTopic.isValidTopicName(will.topic) else { throw .invalidTopicName(will.topic) }
            flags |= Flag.will | will.qos.rawValue << Flag.willQoSShift | (will.retain ? Flag.willRetain : 0)
        }
        if userName != nil { flags |= Flag.userName }
        if password != nil { flags |= Flag.password }
        out.writeInteger(flags)
        out.writeInteger(keepAlive)
        if version == .v5 { try properties.encode(into: &out, context: .connect) }
        try out.writeMQTTString(clientIdentifier, "client identifier")
        if let will {
            if version == .v5 { try will.properties.encode(into: &out, context: .will) }
            try out.writeMQTTString(will.topic, "will topic")
            try out.writeMQTTBinary(will.payload, "will payload")
        }
        if let userName { try out.writeMQTTString(userName, "user name") }
        if let password { try out.writeMQTTBinary(password, "password") }
    }
}
