import NIOCore

@testable import BrokerServer

/// Builds random, valid packets from a seed, for the property tests.
struct MQTTRandomPacketGenerator {
    /// SplitMix64: small, fast and reproducible from a seed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    var rng: SplitMix
    let version: MQTTProtocolVersion

    init(seed: UInt64, version: MQTTProtocolVersion) {
        self.rng = SplitMix(state: seed)
        self.version = version
    }

    mutating func bool() -> Bool { Bool.random(using: &rng) }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func maybe<T>(_ make: (inout Self) -> T) -> T? { bool() ? make(&self) : nil }

    private static let alphabet: [Character] = Array("abcXYZ019-_ é€😀$")

    mutating func string(_ length: ClosedRange<Int> = 0...12) -> String {
        String((0..<int(length)).map { _ in Self.alphabet[int(0...(Self.alphabet.count - 1))] })
    }

    mutating func topicName() -> String {
        (0..<int(1...4)).map { _ in string(0...6) }.joined(separator: "/").nonEmpty(or: "t")
    }

    mutating func topicFilter() -> String {
        var levels = (0..<int(1...4)).map { _ -> String in
            switch int(0...5) {
            case 0: return "+"
            default: return string(0...5)
            }
        }
        if int(0...3) == 0 { levels.append("#") }
        let filter = levels.joined(separator: "/")
        if filter.isEmpty { return "#" }
        return int(0...5) == 0 ? "$share/\(string(1...4).filter { $0 != "/" }.nonEmpty(or: "g"))/\(filter)" : filter
    }

    mutating func bytes(_ length: ClosedRange<Int> = 0...40) -> ByteBuffer {
        var out = ByteBuffer()
        for _ in 0..<int(length) { out.writeInteger(UInt8.random(in: 0...255, using: &rng)) }
        return out
    }

    mutating func qos() -> MQTTQoS { MQTTQoS.allCases[int(0...2)] }
    mutating func packetIdentifier() -> UInt16 { UInt16(int(1...65_535)) }
    mutating func reasonCode(for type: MQTTPacketType) -> MQTTReasonCode {
        let allowed = MQTTReasonCode.allCases.filter { $0.isAllowed(in: type) }
        return allowed[int(0...(allowed.count - 1))]
    }

    /// Random properties allowed in `context` (empty before 5.0).
    mutating func properties(_ context: MQTTPropertyContext, subscriptionIdentifiers: Bool = true) -> MQTTProperties {
        var p = MQTTProperties()
        guard version == .v5 else { return p }
        func allowed(_ identifier: MQTTPropertyIdentifier) -> Bool { identifier.allowedContexts.contains(context) }
        if allowed(.payloadFormatIndicator) { p.payloadFormatIndicator = maybe { _ in .unspecified } }
        if allowed(.messageExpiryInterval) { p.messageExpiryInterval = maybe { UInt32($0.int(0...Int(UInt32.max))) } }
        if allowed(.contentType) { p.contentType = maybe { $0.string() } }
        if allowed(.responseTopic) { p.responseTopic = maybe { $0.topicName() } }
        if allowed(.correlationData) { p.correlationData = maybe { $0.bytes() } }
        if allowed(.subscriptionIdentifier) && subscriptionIdentifiers {
            let count = context == .publish ? int(0...3) : int(0...1)
            p.subscriptionIdentifiers = (0..<count).map { _ in UInt32(int(1...268_435_455)) }
        }
        if allowed(.sessionExpiryInterval) { p.sessionExpiryInterval = maybe { UInt32($0.int(0...Int(UInt32.max))) } }
        if allowed(.assignedClientIdentifier) { p.assignedClientIdentifier = maybe { $0.string() } }
        if allowed(.serverKeepAlive) { p.serverKeepAlive = maybe { UInt16($0.int(0...65_535)) } }
        if allowed(.authenticationMethod) { p.authenticationMethod = maybe { $0.string() } }
        if allowed(.authenticationData) && p.authenticationMethod != nil { p.authenticationData = maybe { $0.bytes() } }
        if allowed(.requestProblemInformation) { p.requestProblemInformation = maybe { $0.bool() } }
        if allowed(.willDelayInterval) { p.willDelayInterval = maybe { UInt32($0.int(0...Int(UInt32.max))) } }
        if allowed(.requestResponseInformation) { p.requestResponseInformation = maybe { $0.bool() } }
        if allowed(.responseInformation) { p.responseInformation = maybe { $0.string() } }
        if allowed(.serverReference) { p.serverReference = maybe { $0.string() } }
        if allowed(.reasonString) { p.reasonString = maybe { $0.string() } }
        if allowed(.receiveMaximum) { p.receiveMaximum = maybe { UInt16($0.int(1...65_535)) } }
        if allowed(.topicAliasMaximum) { p.topicAliasMaximum = maybe { UInt16($0.int(0...65_535)) } }
        if allowed(.topicAlias) { p.topicAlias = maybe { UInt16($0.int(1...65_535)) } }
        if allowed(.maximumQoS) { p.maximumQoS = maybe { $0.bool() ? .atMostOnce : .atLeastOnce } }
        if allowed(.retainAvailable) { p.retainAvailable = maybe { $0.bool() } }
        if allowed(.userProperty) {
            p.userProperties = (0..<int(0...3)).map { _ in MQTTUserProperty(name: string(), value: string()) }
        }
        if allowed(.maximumPacketSize) { p.maximumPacketSize = maybe { UInt32($0.int(1...Int(UInt32.max))) } }
        if allowed(.wildcardSubscriptionAvailable) { p.wildcardSubscriptionAvailable = maybe { $0.bool() } }
        if allowed(.subscriptionIdentifierAvailable) { p.subscriptionIdentifierAvailable = maybe { $0.bool() } }
        if allowed(.sharedSubscriptionAvailable) { p.sharedSubscriptionAvailable = maybe { $0.bool() } }
        return p
    }

    /// A random valid packet of a random type existing in the version (never CONNECT when
    /// `includeConnect` is false).
    mutating func packet(includeConnect: Bool = true) -> MQTTPacket {
        let v5 = version == .v5
        let types = MQTTPacketType.allCases.filter { $0.exists(in: version) && (includeConnect || $0 != .connect) }
        switch types[int(0...(types.count - 1))] {
        case .connect:
            let cleanStart = bool()
            var clientIdentifier = string(version == .v3_1 ? 1...5 : 0...10)
            if version == .v3_1_1 && !cleanStart && clientIdentifier.isEmpty { clientIdentifier = "id" }
            let will = maybe { g in
                MQTTWill(topic: g.topicName(), payload: g.bytes(), qos: g.qos(), retain: g.bool(), properties: g.properties(.will))
            }
            let userName = maybe { $0.string() }
            let password = v5 || userName != nil ? maybe { $0.bytes() } : nil
            return .connect(
                MQTTConnect(
                    protocolVersion: version, cleanStart: cleanStart, keepAlive: UInt16(int(0...65_535)),
                    clientIdentifier: clientIdentifier, will: will, userName: userName, password: password,
                    properties: properties(.connect)))
        case .connack:
            let code: MQTTReasonCode =
                v5 ? reasonCode(for: .connack) : MQTTConnectReturnCode.allCases[int(0...5)].reasonCode
            return .connack(
                MQTTConnAck(
                    sessionPresent: version != .v3_1 && !code.isFailure && bool(), reasonCode: code,
                    properties: properties(.connack)))
        case .publish:
            let qos = qos()
            var properties = properties(.publish, subscriptionIdentifiers: false)
            var topic = topicName()
            if properties.topicAlias != nil && bool() { topic = "" }
            if v5 && bool() { properties.payloadFormatIndicator = .utf8 }
            let payload = properties.payloadFormatIndicator == .utf8 ? ByteBuffer(string: string(0...30)) : bytes(0...300)
            return .publish(
                MQTTPublish(
                    dup: qos != .atMostOnce && bool(), qos: qos, retain: bool(), topicName: topic,
                    packetIdentifier: qos == .atMostOnce ? nil : packetIdentifier(), properties: properties, payload: payload))
        case .puback:
            return .puback(MQTTPubAck(packetIdentifier: packetIdentifier(), reasonCode: v5 ? reasonCode(for: .puback) : .success, properties: properties(.puback)))
        case .pubrec:
            return .pubrec(MQTTPubRec(packetIdentifier: packetIdentifier(), reasonCode: v5 ? reasonCode(for: .pubrec) : .success, properties: properties(.pubrec)))
        case .pubrel:
            return .pubrel(MQTTPubRel(packetIdentifier: packetIdentifier(), reasonCode: v5 ? reasonCode(for: .pubrel) : .success, properties: properties(.pubrel)))
        case .pubcomp:
            return .pubcomp(MQTTPubComp(packetIdentifier: packetIdentifier(), reasonCode: v5 ? reasonCode(for: .pubcomp) : .success, properties: properties(.pubcomp)))
        case .subscribe:
            let subscriptions = (0..<int(1...4)).map { _ -> MQTTSubscription in
                let filter = topicFilter()
                guard v5 else { return MQTTSubscription(topicFilter: filter, qos: qos()) }
                let shared = filter.hasPrefix(MQTTTopic.sharedPrefix)
                return MQTTSubscription(
                    topicFilter: filter, qos: qos(), noLocal: !shared && bool(), retainAsPublished: bool(),
                    retainHandling: MQTTSubscription.RetainHandling.allCases[int(0...2)])
            }
            return .subscribe(MQTTSubscribe(packetIdentifier: packetIdentifier(), properties: properties(.subscribe), subscriptions: subscriptions))
        case .suback:
            let codes = (0..<int(1...4)).map { _ -> MQTTReasonCode in
                if v5 { return reasonCode(for: .suback) }
                let options: [MQTTReasonCode] = version == .v3_1 ? [.grantedQoS0, .grantedQoS1, .grantedQoS2] : [.grantedQoS0, .grantedQoS1, .grantedQoS2, .unspecifiedError]
                return options[int(0...(options.count - 1))]
            }
            return .suback(MQTTSubAck(packetIdentifier: packetIdentifier(), properties: properties(.suback), reasonCodes: codes))
        case .unsubscribe:
            return .unsubscribe(
                MQTTUnsubscribe(packetIdentifier: packetIdentifier(), properties: properties(.unsubscribe), topicFilters: (0..<int(1...4)).map { _ in topicFilter() }))
        case .unsuback:
            let codes = v5 ? (0..<int(1...4)).map { _ in reasonCode(for: .unsuback) } : []
            return .unsuback(MQTTUnsubAck(packetIdentifier: packetIdentifier(), properties: properties(.unsuback), reasonCodes: codes))
        case .pingreq: return .pingreq
        case .pingresp: return .pingresp
        case .disconnect:
            return .disconnect(MQTTDisconnect(reasonCode: v5 ? reasonCode(for: .disconnect) : .success, properties: properties(.disconnect)))
        case .auth:
            return .auth(MQTTAuth(reasonCode: reasonCode(for: .auth), properties: properties(.auth)))
        }
    }
}

extension String {
    fileprivate func nonEmpty(or replacement: String) -> String { isEmpty ? replacement : self }
}
