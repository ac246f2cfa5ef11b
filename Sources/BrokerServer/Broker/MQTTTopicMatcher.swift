import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// Matches one topic name against one topic filter (MQTT 5.0 §4.7): `+` is one level, `#` the
/// rest (including the parent level), and wildcards at the first level do not match topics
/// starting with `$`.
enum MQTTTopicMatcher {
    static func matches(filter: String, topic: String) -> Bool {
        let filterLevels = filter.split(separator: "/", omittingEmptySubsequences: false)
        let topicLevels = topic.split(separator: "/", omittingEmptySubsequences: false)
        if topic.utf8.first == UInt8(ascii: "$"), let first = filterLevels.first, first == "+" || first == "#" {
            return false
        }
        var index = 0
        for level in filterLevels {
            if level == "#" { return true }
            guard index < topicLevels.count else { return false }
            if level != "+" && level != topicLevels[index] { return false }
            index += 1
        }
        return index == topicLevels.count
    }
}
