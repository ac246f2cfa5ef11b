import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// The broker's metrics, created once per broker.
struct MQTTBrokerMetrics: Sendable {
    let connections: Gauge
    let connectionsTotal: Counter
    let connectionsRefused: Counter
    let messagesReceived: Counter
    let messagesSent: Counter
    let bytesReceived: Counter
    let bytesSent: Counter
    let droppedQueueFull: Counter
    let droppedExpired: Counter
    let droppedTooLarge: Counter
    let droppedNotAuthorized: Counter
    let appendFailures: Counter

    init() {
        connections = Gauge(label: "tributary_mqtt_connections")
        connectionsTotal = Counter(label: "tributary_mqtt_connections_total")
        connectionsRefused = Counter(label: "tributary_mqtt_connections_refused_total")
        messagesReceived = Counter(label: "tributary_mqtt_messages_received_total")
        messagesSent = Counter(label: "tributary_mqtt_messages_sent_total")
        bytesReceived = Counter(label: "tributary_mqtt_bytes_received_total")
        bytesSent = Counter(label: "tributary_mqtt_bytes_sent_total")
        droppedQueueFull = Counter(label: "tributary_mqtt_messages_dropped_total", dimensions: [("reason", "queue_full")])
        droppedExpired = Counter(label: "tributary_mqtt_messages_dropped_total", dimensions: [("reason", "expired")])
        droppedTooLarge = Counter(label: "tributary_mqtt_messages_dropped_total", dimensions: [("reason", "too_large")])
        droppedNotAuthorized = Counter(label: "tributary_mqtt_messages_dropped_total", dimensions: [("reason", "not_authorized")])
        appendFailures = Counter(label: "tributary_mqtt_journal_append_failures_total")
    }
}
