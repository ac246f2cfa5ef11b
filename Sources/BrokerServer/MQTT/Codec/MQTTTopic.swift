/// Topic name and topic filter syntax (MQTT 5.0 section 4.7, shared subscriptions 4.8.2).
public enum MQTTTopic {
    /// The prefix of a shared subscription filter.
    public static let sharedPrefix = "$share/"

    /// A parsed shared subscription filter `$share/{group}/{filter}`.
    public struct SharedSubscription: Hashable, Sendable {
        /// The share name.
        public var group: String
        /// The topic filter inside the share.
        public var filter: String
    }

    /// Whether `name` is a valid topic name: at least one character and no wildcard.
    public static func isValidTopicName(_ name: String) -> Bool {
        !name.utf8.isEmpty && !name.utf8.contains { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") }
    }

    /// Whether `filter` is a valid plain topic filter: non-empty, `#` only as a whole last level,
    /// `+` only as a whole level.
    public static func isValidPlainFilter(_ filter: String) -> Bool {
        let bytes = filter.utf8
        guard !bytes.isEmpty else { return false }
        var levelStart = true
        var previousWasWildcard = false
        var sawMultiLevel = false
        for byte in bytes {
            if sawMultiLevel { return false }
            switch byte {
            case UInt8(ascii: "/"):
                levelStart = true
                previousWasWildcard = false
            case UInt8(ascii: "+"), UInt8(ascii: "#"):
                guard levelStart else { return false }
                sawMultiLevel = byte == UInt8(ascii: "#")
                levelStart = false
                previousWasWildcard = true
            default:
                if previousWasWildcard { return false }
                levelStart = false
            }
        }
        return true
    }

    /// Parses a shared subscription filter: `.notShared` without the `$share/` prefix, `.invalid`
    /// if the share name is empty or has wildcards, or the inner filter is missing or invalid.
    public static func sharedSubscription(_ filter: String) -> SharedParse {
        guard filter.hasPrefix(sharedPrefix) else { return .notShared }
        let rest = filter.utf8.dropFirst(sharedPrefix.utf8.count)
        guard let slash = rest.firstIndex(of: UInt8(ascii: "/")) else { return .invalid }
        let group = rest[rest.startIndex..<slash]
        let inner = rest[rest.index(after: slash)...]
        guard !group.isEmpty, !group.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") }),
            let groupString = String(group), let innerString = String(inner),
            isValidPlainFilter(innerString)
        else { return .invalid }
        return .shared(SharedSubscription(group: groupString, filter: innerString))
    }

    /// The result of ``sharedSubscription(_:)``.
    public enum SharedParse: Hashable, Sendable {
        case notShared
        case shared(SharedSubscription)
        case invalid
    }

    /// Whether `filter` is a valid topic filter, including the shared subscription syntax.
    public static func isValidFilter(_ filter: String) -> Bool {
        switch sharedSubscription(filter) {
        case .notShared: return isValidPlainFilter(filter)
        case .shared: return true
        case .invalid: return false
        }
    }
}
