import NIOCore

extension MQTTProperties {
    /// Reads a property length and the property list it covers, enforcing which properties are
    /// allowed in `context`, that non-repeatable ones appear once, and the value ranges.
    static func decode(
        from buffer: inout ByteBuffer,
        context: MQTTPropertyContext,
        rejectDiscouraged: Bool
    ) throws(MQTTDecodeError) -> MQTTProperties {
        let length = try buffer.readMQTTVariableByteInteger("property length")
        guard var list = buffer.readSlice(length: length) else {
            throw .propertiesExceedPacket(declared: length, available: buffer.readableBytes)
        }
        var properties = MQTTProperties()
        var seen: UInt64 = 0
        while list.readableBytes > 0 {
            let rawIdentifier = try list.readMQTTVariableByteInteger("property identifier")
            guard rawIdentifier <= Int(UInt8.max),
                let identifier = MQTTPropertyIdentifier(rawValue: UInt8(rawIdentifier))
            else { throw .unknownProperty(rawIdentifier) }
            guard identifier.allowedContexts.contains(context) else {
                throw .propertyNotAllowed(identifier, in: context)
            }
            let bit: UInt64 = 1 << UInt64(identifier.rawValue)
            if seen & bit != 0 && !identifier.isRepeatable(in: context) {
                throw .duplicateProperty(identifier)
            }
            seen |= bit
            try properties.decodeValue(of: identifier, from: &list, rejectDiscouraged: rejectDiscouraged)
        }
        if properties.authenticationData != nil && properties.authenticationMethod == nil {
            throw .authenticationDataWithoutMethod
        }
        return properties
    }

    private mutating func decodeValue(
        of identifier: MQTTPropertyIdentifier,
        from list: inout ByteBuffer,
        rejectDiscouraged: Bool
    ) throws(MQTTDecodeError) {
        func field() -> String { "property \(identifier)" }
        func byte() throws(MQTTDecodeError) -> UInt8 { try list.readMQTTInteger(field()) }
        func flag() throws(MQTTDecodeError) -> Bool {
            switch try byte() {
            case 0: return false
            case 1: return true
            default: throw .invalidPropertyValue(identifier)
            }
        }
        func two() throws(MQTTDecodeError) -> UInt16 { try list.readMQTTInteger(field()) }
        func four() throws(MQTTDecodeError) -> UInt32 { try list.readMQTTInteger(field()) }
        func string() throws(MQTTDecodeError) -> String {
            try list.readMQTTString(field(), rejectDiscouraged: rejectDiscouraged)
        }
        func nonZero<T: FixedWidthInteger>(_ value: T) throws(MQTTDecodeError) -> T {
            guard value != 0 else { throw .invalidPropertyValue(identifier) }
            return value
        }

        switch identifier {
        case .payloadFormatIndicator:
            guard let format = MQTTPayloadFormat(rawValue: try byte()) else {
                throw .invalidPropertyValue(identifier)
            }
            payloadFormatIndicator = format
        case .messageExpiryInterval: messageExpiryInterval = try four()
        case .contentType: contentType = try string()
        case .responseTopic:
            let topic = try string()
            guard MQTTTopic.isValidTopicName(topic) else { throw .invalidTopicName(topic) }
            responseTopic = topic
        case .correlationData: correlationData = try list.readMQTTBinary(field())
        case .subscriptionIdentifier:
            let value = try list.readMQTTVariableByteInteger(field())
            subscriptionIdentifiers.append(UInt32(try nonZero(value)))
        case .sessionExpiryInterval: sessionExpiryInterval = try four()
        case .assignedClientIdentifier: assignedClientIdentifier = try string()
        case .serverKeepAlive: serverKeepAlive = try two()
        case .authenticationMethod: authenticationMethod = try string()
        case .authenticationData: authenticationData = try list.readMQTTBinary(field())
        case .requestProblemInformation: requestProblemInformation = try flag()
        case .willDelayInterval: willDelayInterval = try four()
        case .requestResponseInformation: requestResponseInformation = try flag()
        case .responseInformation: responseInformation = try string()
        case .serverReference: serverReference = try string()
        case .reasonString: reasonString = try string()
        case .receiveMaximum: receiveMaximum = try nonZero(try two())
        case .topicAliasMaximum: topicAliasMaximum = try two()
        case .topicAlias: topicAlias = try nonZero(try two())
        case .maximumQoS:
            switch try byte() {
            case 0: maximumQoS = .atMostOnce
            case 1: maximumQoS = .atLeastOnce
            default: throw .invalidPropertyValue(identifier)
            }
        case .retainAvailable: retainAvailable = try flag()
        case .userProperty:
            let name = try string()
            let value = try string()
            userProperties.append(MQTTUserProperty(name: name, value: value))
        case .maximumPacketSize: maximumPacketSize = try nonZero(try four())
        case .wildcardSubscriptionAvailable: wildcardSubscriptionAvailable = try flag()
        case .subscriptionIdentifierAvailable: subscriptionIdentifierAvailable = try flag()
        case .sharedSubscriptionAvailable: sharedSubscriptionAvailable = try flag()
        }
    }

    /// Writes the property length and the properties, refusing properties not allowed in
    /// `context` and values the decoder would reject.
    func encode(into buffer: inout ByteBuffer, context: MQTTPropertyContext) throws(MQTTEncodeError) {
        try buffer.writeMQTTVariableByteIntegerPrefixed { (out: inout ByteBuffer) throws(MQTTEncodeError) in
            try self.encodeList(into: &out, context: context)
        }
    }

    private func encodeList(into out: inout ByteBuffer, context: MQTTPropertyContext) throws(MQTTEncodeError) {
        func start(_ identifier: MQTTPropertyIdentifier) throws(MQTTEncodeError) {
            guard identifier.allowedContexts.contains(context) else {
                throw .propertyNotAllowed(identifier, in: context)
            }
            out.writeInteger(identifier.rawValue)
        }
        func byte(_ identifier: MQTTPropertyIdentifier, _ value: UInt8?) throws(MQTTEncodeError) {
            guard let value else { return }
            try start(identifier)
            out.writeInteger(value)
        }
        func flag(_ identifier: MQTTPropertyIdentifier, _ value: Bool?) throws(MQTTEncodeError) {
            try byte(identifier, value.map { $0 ? 1 : 0 })
        }
        func two(_ identifier: MQTTPropertyIdentifier, _ value: UInt16?, nonZero: Bool = false) throws(MQTTEncodeError) {
            guard let value else { return }
            if nonZero && value == 0 { throw .invalidPropertyValue(identifier) }
            try start(identifier)
            out.writeInteger(value)
        }
        func four(_ identifier: MQTTPropertyIdentifier, _ value: UInt32?, nonZero: Bool = false) throws(MQTTEncodeError) {
            guard let value else { return }
            if nonZero && value == 0 { throw .invalidPropertyValue(identifier) }
            try start(identifier)
            out.writeInteger(value)
        }
        func string(_ identifier: MQTTPropertyIdentifier, _ value: String?) throws(MQTTEncodeError) {
            guard let value else { return }
            try start(identifier)
            try out.writeMQTTString(value, "property \(identifier)")
        }
        func binary(_ identifier: MQTTPropertyIdentifier, _ value: ByteBuffer?) throws(MQTTEncodeError) {
            guard let value else { return }
            try start(identifier)
            try out.writeMQTTBinary(value, "property \(identifier)")
        }

        try byte(.payloadFormatIndicator, payloadFormatIndicator?.rawValue)
        try four(.messageExpiryInterval, messageExpiryInterval)
        try string(.contentType, contentType)
        if let responseTopic, !MQTTTopic.isValidTopicName(responseTopic) {
            throw .invalidTopicName(responseTopic)
        }
        try string(.responseTopic, responseTopic)
        try binary(.correlationData, correlationData)
        if subscriptionIdentifiers.count > 1 && !MQTTPropertyIdentifier.subscriptionIdentifier.isRepeatable(in: context) {
            throw .invalidPropertyValue(.subscriptionIdentifier)
        }
        for identifier in subscriptionIdentifiers {
            guard identifier != 0, identifier <= MQTTProperties.maximumSubscriptionIdentifier else {
                throw .invalidPropertyValue(.subscriptionIdentifier)
            }
            try start(.subscriptionIdentifier)
            out.writeMQTTVariableByteInteger(Int(identifier))
        }
        try four(.sessionExpiryInterval, sessionExpiryInterval)
        try string(.assignedClientIdentifier, assignedClientIdentifier)
        try two(.serverKeepAlive, serverKeepAlive)
        if authenticationData != nil && authenticationMethod == nil {
            throw .invalidPropertyValue(.authenticationData)
        }
        try string(.authenticationMethod, authenticationMethod)
        try binary(.authenticationData, authenticationData)
        try flag(.requestProblemInformation, requestProblemInformation)
        try four(.willDelayInterval, willDelayInterval)
        try flag(.requestResponseInformation, requestResponseInformation)
        try string(.responseInformation, responseInformation)
        try string(.serverReference, serverReference)
        try string(.reasonString, reasonString)
        try two(.receiveMaximum, receiveMaximum, nonZero: true)
        try two(.topicAliasMaximum, topicAliasMaximum)
        try two(.topicAlias, topicAlias, nonZero: true)
        if maximumQoS == .exactlyOnce { throw .invalidPropertyValue(.maximumQoS) }
        try byte(.maximumQoS, maximumQoS?.rawValue)
        try flag(.retainAvailable, retainAvailable)
        for property in userProperties {
            try start(.userProperty)
            try out.writeMQTTString(property.name, "user property name")
            try out.writeMQTTString(property.value, "user property value")
        }
        try four(.maximumPacketSize, maximumPacketSize, nonZero: true)
        try flag(.wildcardSubscriptionAvailable, wildcardSubscriptionAvailable)
        try flag(.subscriptionIdentifierAvailable, subscriptionIdentifierAvailable)
        try flag(.sharedSubscriptionAvailable, sharedSubscriptionAvailable)
    }
}
