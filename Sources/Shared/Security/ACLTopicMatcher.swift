/// MQTT topic-filter matching for the ACL engine (MQTT 5.0 §4.7).
public enum ACLTopicMatcher {
    /// Whether topic name `topic` matches `filter` (`+` one level, `#` the rest including the
    /// parent). Wildcards at the first level never match topics starting with `$`
    /// (MQTT-4.7.2-1).
    public static func matches(filter: String, topic: String) -> Bool {
        let filterLevels = filter.split(separator: "/", omittingEmptySubsequences: false)
        let topicLevels = topic.split(separator: "/", omittingEmptySubsequences: false)
        if topic.hasPrefix("$"), let first = filterLevels.first, first == "+" || first == "#" { return false }
        var index = 0
        while index < filterLevels.count {
            let level = filterLevels[index]
            if level == "#" { return index == filterLevels.count - 1 }
            guard index < topicLevels.count else { return false }
            if level != "+" && level != topicLevels[index] { return false }
            index += 1
        }
        return index == topicLevels.count
    }

    /// Whether every topic the subscription `requested` could match is also matched by
    /// `filter`, i.e. `filter` covers `requested`. Used for subscribe authorisation: a rule for
    /// `a/+` allows subscribing to `a/b` and `a/+`, never to `a/#` or `#`.
    public static func covers(filter: String, requested: String) -> Bool {
        let filterLevels = filter.split(separator: "/", omittingEmptySubsequences: false)
        let requestedLevels = requested.split(separator: "/", omittingEmptySubsequences: false)
        // A rule starting with a wildcard never reaches `$` topics (MQTT-4.7.2-1).
        if let first = requestedLevels.first, first.hasPrefix("$"),
           let ruleFirst = filterLevels.first, ruleFirst == "+" || ruleFirst == "#" {
            return false
        }
        var index = 0
        while index < filterLevels.count {
            let level = filterLevels[index]
            if level == "#" { return index == filterLevels.count - 1 }
            guard index < requestedLevels.count else { return false }
            let wanted = requestedLevels[index]
            if wanted == "#" { return false }
            if level == "+" {
                index += 1
                continue
            }
            if wanted == "+" || level != wanted { return false }
            index += 1
        }
        return index == requestedLevels.count
    }

    /// Strips an MQTT 5 shared-subscription prefix (`$share/<group>/`) so that rules are
    /// written against the underlying filter. Returns `nil` for a malformed share.
    public static func underlyingFilter(_ filter: String) -> String? {
        guard filter.hasPrefix("$share/") else { return filter }
        let parts = filter.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[1].isEmpty, !parts[2].isEmpty,
              !parts[1].contains("+"), !parts[1].contains("#")
        else { return nil }
        return String(parts[2])
    }

    /// Whether `text` is a valid topic filter: non-empty, `#` only as the whole last level,
    /// `+` only as a whole level, no NUL.
    public static func isValidFilter(_ text: String) -> Bool {
        guard !text.isEmpty, !text.unicodeScalars.contains("\0") else { return false }
        let levels = text.split(separator: "/", omittingEmptySubsequences: false)
        for (index, level) in levels.enumerated() {
            if level.contains("#") && (level != "#" || index != levels.count - 1) { return false }
            if level.contains("+") && level != "+" { return false }
        }
        return true
    }
}
