import BrokerServer

/// Why a benchmark connection failed, worded for the person running the benchmark.
enum BenchMQTTError: Error, Hashable, Sendable, CustomStringConvertible {
    /// CONNACK carried a failure code.
    case refused(MQTTReasonCode)
    /// SUBACK refused the subscription.
    case subscriptionRefused(MQTTReasonCode)
    /// PUBACK or PUBREC carried a failure code.
    case publishRefused(MQTTReasonCode)
    /// The broker's Maximum QoS is below the requested QoS.
    case qosNotSupported(granted: MQTTQoS, wanted: MQTTQoS)
    /// An acknowledgement for a packet identifier that is not in flight.
    case unknownPacketIdentifier(MQTTPacketType, UInt16)
    /// A packet a client does not expect at this point.
    case unexpected(MQTTPacketType)
    /// The broker sent DISCONNECT.
    case disconnectedByBroker(MQTTReasonCode)
    /// The connection closed before the run ended.
    case connectionLost
    /// No CONNACK (or SUBACK) in time.
    case handshakeTimeout

    var description: String {
        switch self {
        case .refused(let code):
            return "connection refused by the broker: CONNACK \(Self.describe(code))"
        case .subscriptionRefused(let code):
            return "subscription refused by the broker: SUBACK \(Self.describe(code))"
        case .publishRefused(let code):
            return "publish refused by the broker: \(Self.describe(code))"
        case .qosNotSupported(let granted, let wanted):
            return "the broker's Maximum QoS is \(granted.rawValue), below --qos \(wanted.rawValue)"
        case .unknownPacketIdentifier(let type, let identifier):
            return "protocol error: \(type) for packet identifier \(identifier), which is not in flight"
        case .unexpected(let type):
            return "protocol error: unexpected \(type) from the broker"
        case .disconnectedByBroker(let code):
            return "the broker sent DISCONNECT \(Self.describe(code))"
        case .connectionLost:
            return "connection lost (closed by the broker or the network)"
        case .handshakeTimeout:
            return "no CONNACK/SUBACK from the broker within 10 s"
        }
    }

    private static func describe(_ code: MQTTReasonCode) -> String {
        let hex = String(code.rawValue, radix: 16, uppercase: true)
        return "\(code) (0x\(hex.count == 1 ? "0" + hex : hex))"
    }
}
