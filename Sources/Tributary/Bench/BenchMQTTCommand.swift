import ArgumentParser
import BrokerServer
import Foundation

/// `tributary bench mqtt`: an MQTT load generator (connections, publish, subscribe, end-to-end
/// latency) against any MQTT broker.
struct BenchMQTTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mqtt",
        abstract: "Benchmark an MQTT broker: connections, publish, subscribe, end-to-end latency.",
        discussion: """
            conn: opens --clients connections at --rate connects/s and holds them for --duration \
            seconds (with --broker-pid, reports the broker's resident memory before and while \
            holding them, and the bytes per connection). pub: --clients publishers send --rate msgs/s each (0 = as fast as the \
            in-flight window allows; QoS 1/2 latency is PUBLISH to PUBACK/PUBCOMP). sub: \
            --clients subscribers count what arrives (latency is meaningful only for payloads \
            stamped by `bench mqtt pub` on the same host). e2e: \
            publishers and subscribers in this process, shaped by --shape (p2p: publisher i -> \
            topic(i) <- subscriber i; fan-in: publishers -> one wildcard subscriber; fan-out: one \
            publisher -> every subscriber); latency comes from a monotonic timestamp in the first \
            8 payload bytes. --topic may contain %i (the connection index). Prints sent, \
            received and acknowledged msgs/s every second and a summary (msgs/s, MB/s, latency \
            percentiles in microseconds).
            """
    )

    /// What to measure.
    enum Scenario: String, ExpressibleByArgument, CaseIterable, Sendable {
        case conn, pub, sub, e2e
    }

    /// How e2e publishers and subscribers map onto topics.
    enum Shape: String, ExpressibleByArgument, CaseIterable, Sendable {
        case p2p
        case fanIn = "fan-in"
        case fanOut = "fan-out"
    }

    @Argument(help: "What to measure.")
    var scenario: Scenario

    @Option(help: "Broker host.")
    var host: String = "127.0.0.1"

    @Option(help: "Broker port.")
    var port: Int = 1883

    @Option(help: "Connections (conn), publishers (pub), subscribers (sub); e2e: both sides (p2p), the publishers (fan-in) or the subscribers (fan-out).")
    var clients: Int = 1

    @Option(help: "Connects/s (conn) or msgs/s per publisher (pub, e2e); 0 = as fast as possible.")
    var rate: Int = 0

    @Option(help: "Run for this many seconds.")
    var duration: Int = 10

    @Option(help: "QoS of publications and subscriptions: 0, 1 or 2.")
    var qos: UInt8 = 0

    @Option(help: "Topic name pattern; %i is replaced by the connection index.")
    var topic: String = "bench/%i"

    @Option(help: "Payload size in bytes (at least 8 for e2e: the timestamp).")
    var payload: Int = 64

    @Option(name: .customLong("mqtt-version"), help: "MQTT version: 3.1.1 or 5.")
    var mqttVersion: String = "3.1.1"

    @Option(help: "e2e publishers (default from --shape and --clients).")
    var publishers: Int?

    @Option(help: "e2e subscribers (default from --shape and --clients).")
    var subscribers: Int?

    @Option(help: "e2e shape: p2p, fan-in or fan-out.")
    var shape: Shape = .p2p

    /// 3.1.1 brokers announce no Receive Maximum; 20 is mosquitto's max_inflight_messages default,
    /// beyond which it disconnects 3.1.1 clients sending QoS 2.
    @Option(
        name: .customLong("inflight"),
        help: "Unacknowledged QoS 1/2 messages per publisher (MQTT 5: lowered to the broker's Receive Maximum).")
    var inFlight: Int = 20

    @Option(help: "Local addresses to connect from, FIRST-LAST (IPv4) or ADDRESS,…; connection i uses address i mod count (more than ~28,000 connections to one broker address need several).")
    var sourceAddresses: String?

    @Option(help: "conn: the broker's process id on this machine; its resident memory (VmRSS) is reported before connecting and while the connections are held.")
    var brokerPid: Int32?

    @Flag(help: "Print the summary as one JSON object.")
    var json = false

    func validate() throws {
        _ = try self.settings()
    }

    func run() async throws {
        let settings = try self.settings()
        let runner = BenchMQTTRunner(settings: settings)
        let summary = try await runner.run()
        print(self.json ? summary.json : summary.text)
        if summary.errors > 0 {
            throw ExitCode(1)
        }
    }

    /// The validated options.
    func settings() throws -> BenchMQTTSettings {
        guard (1...65_535).contains(self.port) else { throw ValidationError("--port must be between 1 and 65535, got \(self.port)") }
        guard self.clients >= 1 else { throw ValidationError("--clients must be at least 1") }
        guard self.rate >= 0 else { throw ValidationError("--rate must be 0 (as fast as possible) or more") }
        guard self.duration >= 1 else { throw ValidationError("--duration must be at least 1 second") }
        guard let qos = MQTTQoS(rawValue: self.qos) else { throw ValidationError("--qos must be 0, 1 or 2, got \(self.qos)") }
        guard self.inFlight >= 1 && self.inFlight <= 65_535 else { throw ValidationError("--inflight must be between 1 and 65535") }
        let version: MQTTProtocolVersion
        switch self.mqttVersion {
        case "3.1.1": version = .v3_1_1
        case "5", "5.0": version = .v5
        default: throw ValidationError("--mqtt-version must be 3.1.1 or 5, got \(self.mqttVersion)")
        }
        let maximumPayload = 1 << 20
        let minimumPayload = self.scenario == .e2e ? 8 : 0
        guard (minimumPayload...maximumPayload).contains(self.payload) else {
            throw ValidationError("--payload must be between \(minimumPayload) and \(maximumPayload) bytes for \(self.scenario.rawValue)")
        }
        guard MQTTTopic.isValidTopicName(BenchMQTTSettings.topic(self.topic, index: 0)) else {
            throw ValidationError("--topic must be a topic name without + or # wildcards, got \(self.topic)")
        }
        var publishers = 0
        var subscribers = 0
        switch self.scenario {
        case .conn: break
        case .pub: publishers = self.clients
        case .sub: subscribers = self.clients
        case .e2e:
            switch self.shape {
            case .p2p:
                publishers = self.publishers ?? self.subscribers ?? self.clients
                subscribers = self.subscribers ?? publishers
                guard publishers == subscribers else {
                    throw ValidationError("--shape p2p needs as many publishers as subscribers, got \(publishers) and \(subscribers)")
                }
            case .fanIn:
                publishers = self.publishers ?? self.clients
                subscribers = self.subscribers ?? 1
                guard subscribers == 1 else { throw ValidationError("--shape fan-in has exactly one subscriber") }
            case .fanOut:
                publishers = self.publishers ?? 1
                subscribers = self.subscribers ?? self.clients
                guard publishers == 1 else { throw ValidationError("--shape fan-out has exactly one publisher") }
            }
            guard publishers >= 1 && subscribers >= 1 else { throw ValidationError("--publishers and --subscribers must be at least 1") }
        }
        let sourceAddresses = try self.sourceAddresses.map(BenchMQTTSourceAddresses.parse) ?? []
        if let brokerPid = self.brokerPid {
            guard self.scenario == .conn else { throw ValidationError("--broker-pid applies to conn only") }
            guard BenchProcessMemory.residentKiB(pid: brokerPid) != nil else {
                throw ValidationError("--broker-pid \(brokerPid): cannot read /proc/\(brokerPid)/status (no such process here?)")
            }
        }
        if self.scenario != .e2e && (self.publishers != nil || self.subscribers != nil) {
            throw ValidationError("--publishers and --subscribers apply to e2e only; use --clients")
        }
        return BenchMQTTSettings(
            scenario: self.scenario, host: self.host, port: self.port, clients: self.clients, rate: self.rate,
            duration: self.duration, qos: qos, topicPattern: self.topic, payloadBytes: self.payload, version: version,
            publishers: publishers, subscribers: subscribers, shape: self.shape, inFlight: self.inFlight, quiet: self.json,
            sourceAddresses: sourceAddresses, brokerPID: self.brokerPid
        )
    }
}
