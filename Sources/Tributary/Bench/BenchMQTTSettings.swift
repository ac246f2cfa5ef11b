import BrokerServer
import Foundation

/// The validated options of `tributary bench mqtt`.
struct BenchMQTTSettings: Sendable {
    var scenario: BenchMQTTCommand.Scenario
    var host: String
    var port: Int
    var clients: Int
    var rate: Int
    var duration: Int
    var qos: MQTTQoS
    var topicPattern: String
    var payloadBytes: Int
    var version: MQTTProtocolVersion
    /// Publishing connections (pub, e2e).
    var publishers: Int
    /// Subscribing connections (sub, e2e).
    var subscribers: Int
    var shape: BenchMQTTCommand.Shape
    var inFlight: Int
    /// No progress lines (JSON output).
    var quiet: Bool
    /// Local addresses connections bind to (connection i: i mod count); empty: the system picks.
    var sourceAddresses: [String] = []
    /// conn: the broker process whose resident memory is reported.
    var brokerPID: Int32?

    /// `pattern` with every `%i` replaced by `index`.
    static func topic(_ pattern: String, index: Int) -> String {
        pattern.replacingOccurrences(of: "%i", with: String(index))
    }

    /// A filter matching every topic `pattern` produces: the levels before the one holding
    /// `%i`, then `#` (`pattern` itself when it has no `%i`).
    static func wildcardFilter(_ pattern: String) -> String {
        guard let marker = pattern.range(of: "%i") else { return pattern }
        let prefix = pattern[..<marker.lowerBound]
        guard let slash = prefix.lastIndex(of: "/") else { return "#" }
        return String(pattern[...slash]) + "#"
    }

    /// The topic publisher `index` sends to.
    func publishTopic(_ index: Int) -> String {
        switch (self.scenario, self.shape) {
        case (.e2e, .fanOut): return Self.topic(self.topicPattern, index: 0)
        default: return Self.topic(self.topicPattern, index: index)
        }
    }

    /// The filter subscriber `index` subscribes to.
    func subscribeFilter(_ index: Int) -> String {
        switch (self.scenario, self.shape) {
        case (.e2e, .fanIn): return Self.wildcardFilter(self.topicPattern)
        case (.e2e, .fanOut): return Self.topic(self.topicPattern, index: 0)
        default: return Self.topic(self.topicPattern, index: index)
        }
    }

    /// How many deliveries `sent` publications produce (e2e).
    func expectedDeliveries(sent: Int) -> Int {
        self.shape == .fanOut ? sent * self.subscribers : sent
    }
}
