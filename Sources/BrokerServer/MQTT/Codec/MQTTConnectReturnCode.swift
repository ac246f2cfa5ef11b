/// The CONNACK return codes of MQTT 3.1 and 3.1.1.
///
/// Tributary's packet structs always carry v5 ``MQTTReasonCode``s; these are the v3 spellings the
/// codec maps to and from on the wire.
public enum MQTTConnectReturnCode: UInt8, Hashable, Sendable, CaseIterable {
    case accepted = 0
    case unacceptableProtocolVersion = 1
    case identifierRejected = 2
    case serverUnavailable = 3
    case badUserNameOrPassword = 4
    case notAuthorized = 5

    /// The v5 reason code with the same meaning.
    public var reasonCode: MQTTReasonCode {
        switch self {
        case .accepted: return .success
        case .unacceptableProtocolVersion: return .unsupportedProtocolVersion
        case .identifierRejected: return .clientIdentifierNotValid
        case .serverUnavailable: return .serverUnavailable
        case .badUserNameOrPassword: return .badUserNameOrPassword
        case .notAuthorized: return .notAuthorized
        }
    }

    /// The v3 return code for a v5 reason code, or `nil` if 3.1.1 cannot express it.
    public init?(reasonCode: MQTTReasonCode) {
        switch reasonCode {
        case .success: self = .accepted
        case .unsupportedProtocolVersion: self = .unacceptableProtocolVersion
        case .clientIdentifierNotValid: self = .identifierRejected
        case .serverUnavailable: self = .serverUnavailable
        case .badUserNameOrPassword: self = .badUserNameOrPassword
        case .notAuthorized: self = .notAuthorized
        default: return nil
        }
    }
}
