import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

extension MQTTBroker {
    /// Starts publishing the `$SYS/broker/…` topics (retained) every ``MQTTBrokerConfiguration/sysInterval`` seconds.
    func startSys() {
        guard configuration.sysInterval > 0 else { return }
        let interval = TimeAmount.seconds(Int64(configuration.sysInterval))
        let task = eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { _ in
            self.publishSys()
        }
        state.withLockedValue { $0.sysTask = task }
    }

    /// The `$SYS` topics and their current values.
    func sysValues() -> [(String, String)] {
        let uptime = (NIODeadline.now() - startedAt).nanoseconds / 1_000_000_000
        return [
            ("$SYS/broker/version", configuration.version),
            ("$SYS/broker/uptime", "\(uptime) seconds"),
            ("$SYS/broker/clients/connected", "\(connectedClients)"),
            ("$SYS/broker/messages/received", "\(counters.messagesReceived.load(ordering: .relaxed))"),
            ("$SYS/broker/messages/sent", "\(counters.messagesSent.load(ordering: .relaxed))"),
            ("$SYS/broker/bytes/received", "\(counters.bytesReceived.load(ordering: .relaxed))"),
            ("$SYS/broker/bytes/sent", "\(counters.bytesSent.load(ordering: .relaxed))"),
        ]
    }

    /// Standalone: `$SYS/broker/…`. Cluster: each broker publishes its own values under
    /// `$SYS/brokers/<id>/…` (retained, so every broker's subscribers see every broker's values)
    /// and the version, shared by all, under `$SYS/broker/version`.
    func sysTopics() -> [(String, String)] {
        guard let brokerID = configuration.brokerID else { return sysValues() }
        var topics = [("$SYS/broker/version", configuration.version)]
        for (topic, value) in sysValues() {
            topics.append(("$SYS/brokers/\(brokerID)/" + topic.dropFirst("$SYS/broker/".count), value))
        }
        return topics
    }

    private func publishSys() {
        let now = Self.nowMillis()
        for (topic, value) in sysTopics() {
            let message = MQTTStoredMessage(
                topic: topic, payload: ByteBuffer(string: value), qos: .atMostOnce, retain: true,
                publisherClientIdentifier: nil, properties: MQTTProperties(), receivedAtMillis: now)
            _ = store(message, on: eventLoop)
        }
    }
}
