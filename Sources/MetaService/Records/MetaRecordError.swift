/// Why a typed-record operation (``TopicStore``, ``ConsumerOffsetStore``) was refused.
public enum MetaRecordError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A name (tenant, topic, group, member) is not acceptable.
    case invalidName(what: String, name: String, reason: String)
    /// A setting is out of range.
    case invalidSetting(what: String, reason: String)
    /// The record to create exists already.
    case alreadyExists(key: String)
    /// The record does not exist.
    case notFound(key: String)
    /// An offset commit named a generation that is not the group's current one (Kafka's
    /// `ILLEGAL_GENERATION`).
    case illegalGeneration(group: String, given: Int32, current: Int32)
    /// An offset commit came from a member that is not in the group's current generation
    /// (Kafka's `UNKNOWN_MEMBER_ID`).
    case unknownMember(group: String, memberID: String)
    /// The record kept changing under a compare-and-set loop; try again.
    case contended(key: String)
    /// A stored record does not decode.
    case corrupt(key: String, reason: String)

    public var description: String {
        switch self {
        case .invalidName(let what, let name, let reason): "invalid \(what) '\(name)': \(reason)"
        case .invalidSetting(let what, let reason): "invalid \(what): \(reason)"
        case .alreadyExists(let key): "\(key) already exists"
        case .notFound(let key): "\(key) does not exist"
        case .illegalGeneration(let group, let given, let current):
            "group '\(group)': generation \(given) is not the current generation \(current)"
        case .unknownMember(let group, let memberID): "group '\(group)': member '\(memberID)' is not in the current generation"
        case .contended(let key): "\(key) kept changing concurrently; retry"
        case .corrupt(let key, let reason): "\(key) does not decode: \(reason)"
        }
    }
}
