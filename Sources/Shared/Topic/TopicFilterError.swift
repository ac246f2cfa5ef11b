/// Why a string is not a valid MQTT topic filter (MQTT 5 §4.7.1, §4.7.3).
public enum TopicFilterError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A filter must be at least one character long.
    case empty
    /// A filter is at most 65,535 bytes of UTF-8.
    case tooLong(bytes: Int)
    /// The filter contains U+0000.
    case containsNull
    /// `#` must be the last character and occupy a whole level.
    case misplacedMultiLevelWildcard(filter: String)
    /// `+` must occupy a whole level.
    case misplacedSingleLevelWildcard(filter: String)

    public var description: String {
        switch self {
        case .empty: "a topic filter must not be empty"
        case .tooLong(let bytes): "a topic filter is at most 65535 bytes (got \(bytes))"
        case .containsNull: "a topic filter must not contain U+0000"
        case .misplacedMultiLevelWildcard(let filter): "'#' must be the whole last level of a topic filter: '\(filter)'"
        case .misplacedSingleLevelWildcard(let filter): "'+' must be a whole level of a topic filter: '\(filter)'"
        }
    }
}
