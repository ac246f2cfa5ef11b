import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// The retained messages by topic, with the offset in the retained shard of the record that set
/// them (an older record never replaces a newer one, so applying the shard's records and the
/// broker's own acknowledged appends in any order converges).
struct MQTTRetainedIndex: Sendable {
    private var byTopic: [String: (offset: Int64, message: MQTTStoredMessage)] = [:]
    private var cleared: [String: Int64] = [:]

    /// The number of retained messages.
    var count: Int { byTopic.count }

    /// Applies the retained record at `offset`: an empty payload clears the topic.
    mutating func apply(_ message: MQTTStoredMessage, offset: Int64) {
        let topic = message.topic
        if let existing = byTopic[topic], existing.offset >= offset { return }
        if let clearedAt = cleared[topic], clearedAt >= offset { return }
        if message.payload.readableBytes == 0 {
            byTopic[topic] = nil
            cleared[topic] = offset
        } else {
            byTopic[topic] = (offset, message)
            cleared[topic] = nil
        }
    }

    /// The retained messages whose topic matches `filter`, ordered by topic.
    func matching(_ filter: String) -> [MQTTStoredMessage] {
        byTopic.filter { MQTTTopicMatcher.matches(filter: filter, topic: $0.key) }
            .sorted { $0.key < $1.key }
            .map(\.value.message)
    }
}
