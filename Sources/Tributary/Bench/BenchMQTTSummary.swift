import BrokerServer
import Histogram

/// The result of one `tributary bench mqtt` run, as text or one JSON object.
struct BenchMQTTSummary {
    let settings: BenchMQTTSettings
    let sent: Int
    let received: Int
    let acked: Int
    let errors: Int
    let errorMessages: [String]
    let bytesSent: Int
    let bytesReceived: Int
    let connected: Int
    let connectFailures: Int
    /// The publishing phase (or, for conn and sub, the whole run).
    let seconds: Double
    /// Until the last expected delivery (e2e), else as `seconds`.
    let receiveSeconds: Double
    /// conn: until every connection attempt settled.
    let connectSeconds: Double?
    /// conn: connections still open at the end.
    let held: Int?
    let samples: UInt64
    let p50: UInt64
    let p90: UInt64
    let p99: UInt64
    let p999: UInt64
    let max: UInt64
    /// conn with a broker pid: the broker's VmRSS before connecting and while holding (KiB).
    var brokerResidentKiB: (before: Int, held: Int)?

    /// Broker memory per held connection, in bytes.
    var bytesPerConnection: Int? {
        guard let memory = self.brokerResidentKiB, let held, held > 0 else { return nil }
        return (memory.held - memory.before) * 1024 / held
    }

    init(
        settings: BenchMQTTSettings, stats: BenchMQTTStats, histogram: Histogram<UInt64>,
        seconds: Double, receiveSeconds: Double, connectSeconds: Double?, held: Int?
    ) {
        self.settings = settings
        self.sent = stats.sent
        self.received = stats.received
        self.acked = stats.acked
        self.errors = stats.errors
        self.errorMessages = stats.errorMessages
        self.bytesSent = stats.bytesSent
        self.bytesReceived = stats.bytesReceived
        self.connected = stats.connected
        self.connectFailures = stats.connectFailures
        self.seconds = seconds
        self.receiveSeconds = receiveSeconds
        self.connectSeconds = connectSeconds
        self.held = held
        self.samples = histogram.totalCount
        self.p50 = histogram.valueAtPercentile(50)
        self.p90 = histogram.valueAtPercentile(90)
        self.p99 = histogram.valueAtPercentile(99)
        self.p999 = histogram.valueAtPercentile(99.9)
        self.max = histogram.max
    }

    var publishRate: Double { Self.rate(self.sent, self.seconds) }
    var receiveRate: Double { Self.rate(self.received, self.receiveSeconds) }
    var publishMegabytes: Double { Self.rate(self.bytesSent, self.seconds) / 1e6 }
    var receiveMegabytes: Double { Self.rate(self.bytesReceived, self.receiveSeconds) / 1e6 }
    var connectRate: Double { Self.rate(self.connected, self.connectSeconds ?? self.seconds) }

    /// What the latency histogram measured.
    var latencyKind: String {
        switch self.settings.scenario {
        case .conn: return "connect"
        case .pub: return self.settings.qos == .atMostOnce ? "none" : "ack"
        case .sub, .e2e: return "end-to-end"
        }
    }

    var json: String {
        let s = self.settings
        var fields: [(String, String)] = [
            ("scenario", Self.quoted(s.scenario.rawValue)),
            ("host", Self.quoted(s.host)), ("port", "\(s.port)"),
            ("mqttVersion", Self.quoted(s.version.description)), ("qos", "\(s.qos.rawValue)"),
        ]
        if s.scenario == .e2e { fields.append(("shape", Self.quoted(s.shape.rawValue))) }
        fields += [
            ("clients", "\(s.scenario == .conn ? s.clients : s.publishers + s.subscribers)"),
            ("publishers", "\(s.publishers)"), ("subscribers", "\(s.subscribers)"),
            ("payloadBytes", "\(s.payloadBytes)"), ("rate", "\(s.rate)"),
            ("seconds", BenchLatencyRecorder.format(self.seconds)),
            ("sent", "\(self.sent)"), ("received", "\(self.received)"), ("acked", "\(self.acked)"),
            ("errors", "\(self.errors)"),
            ("pubMsgsPerSecond", BenchLatencyRecorder.format(self.publishRate)), ("subMsgsPerSecond", BenchLatencyRecorder.format(self.receiveRate)),
            ("pubMBPerSecond", BenchLatencyRecorder.format(self.publishMegabytes)), ("subMBPerSecond", BenchLatencyRecorder.format(self.receiveMegabytes)),
            ("connected", "\(self.connected)"), ("connectFailures", "\(self.connectFailures)"),
        ]
        if let held { fields.append(("held", "\(held)")) }
        if self.connectSeconds != nil { fields.append(("connectsPerSecond", BenchLatencyRecorder.format(self.connectRate))) }
        if let memory = self.brokerResidentKiB {
            fields += [("brokerRssBeforeKiB", "\(memory.before)"), ("brokerRssHeldKiB", "\(memory.held)")]
            if let perConnection = self.bytesPerConnection { fields.append(("brokerBytesPerConnection", "\(perConnection)")) }
        }
        fields += [
            ("latency", Self.quoted(self.latencyKind)), ("latencySamples", "\(self.samples)"),
            ("p50Micros", "\(self.p50)"), ("p90Micros", "\(self.p90)"), ("p99Micros", "\(self.p99)"),
            ("p999Micros", "\(self.p999)"), ("maxMicros", "\(self.max)"),
            ("errorMessages", "[" + self.errorMessages.map(Self.quoted).joined(separator: ",") + "]"),
        ]
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    var text: String {
        let s = self.settings
        var lines: [String] = []
        var heading = "mqtt \(s.scenario.rawValue) against \(s.host):\(s.port), MQTT \(s.version), QoS \(s.qos.rawValue)"
        if s.scenario == .e2e { heading += ", \(s.shape.rawValue)" }
        if s.scenario == .conn {
            heading += ", \(s.clients) clients"
            lines.append(heading)
            lines.append("connections: \(self.connected) connected, \(self.connectFailures) failed, \(self.held ?? 0) held at the end")
            lines.append("connect rate: \(BenchLatencyRecorder.format(self.connectRate)) connects/s")
            if let memory = self.brokerResidentKiB {
                lines.append(
                    "broker resident memory: \(memory.before) KiB before, \(memory.held) KiB holding"
                        + (self.bytesPerConnection.map { ", \($0) bytes per connection" } ?? ""))
            }
        } else {
            heading += ", \(s.publishers) publisher(s), \(s.subscribers) subscriber(s), payload \(s.payloadBytes) B"
            lines.append(heading)
            lines.append("messages: \(self.sent) sent, \(self.received) received, \(self.acked) acked, \(self.errors) errors in \(BenchLatencyRecorder.format(self.seconds)) s")
            lines.append("publish: \(BenchLatencyRecorder.format(self.publishRate)) msgs/s, \(BenchLatencyRecorder.format(self.publishMegabytes)) MB/s")
            lines.append("receive: \(BenchLatencyRecorder.format(self.receiveRate)) msgs/s, \(BenchLatencyRecorder.format(self.receiveMegabytes)) MB/s")
        }
        if self.samples > 0 {
            lines.append("\(self.latencyKind) latency µs: p50 \(self.p50)  p90 \(self.p90)  p99 \(self.p99)  p999 \(self.p999)  max \(self.max)")
        }
        for message in self.errorMessages {
            lines.append("error: \(message)")
        }
        return lines.joined(separator: "\n")
    }

    private static func rate(_ count: Int, _ seconds: Double) -> Double {
        seconds > 0 ? Double(count) / seconds : 0
    }

    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
