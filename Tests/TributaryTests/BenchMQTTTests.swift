import Foundation
import Testing

/// `tributary bench mqtt` against a real mosquitto broker: the numbers it reports must add up.
@Suite(
    "tributary bench mqtt against mosquitto", .serialized,
    .enabled(if: BenchMQTTMosquitto.executable != nil, BenchMQTTMosquitto.unavailableReason)
)
struct BenchMQTTTests {
    /// Runs `tributary bench mqtt <arguments> --json` and returns its exit status, the summary
    /// object (last stdout line) and stderr.
    private func bench(_ arguments: [String]) async throws -> (status: Int32?, summary: [String: Any], stderr: String) {
        let process = try TributaryProcess(["bench", "mqtt"] + arguments + ["--json"])
        let status = await process.exitStatus(timeout: .seconds(120))
        await settled(process)
        let line = process.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
        let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        return (status, object, process.standardError)
    }

    /// The pipes may deliver after the process exited: waits until the last thing a finished run
    /// prints (the JSON summary on stdout, or an error line on stderr) has arrived.
    private func settled(_ process: TributaryProcess) async {
        _ = await eventually(timeout: .seconds(10)) {
            process.standardOutput.hasSuffix("}\n") || process.standardError.hasSuffix("\n")
        }
    }

    private func startBroker(_ configuration: [String] = ["allow_anonymous true"]) async throws -> BenchMQTTMosquitto {
        let broker = try BenchMQTTMosquitto(extraConfiguration: configuration)
        let listening = await broker.waitUntilListening()
        try #require(listening, "mosquitto did not start: \(broker.log)")
        return broker
    }

    private func int(_ summary: [String: Any], _ key: String) -> Int? {
        (summary[key] as? NSNumber)?.intValue
    }

    private func expectLatencyFields(_ summary: [String: Any]) {
        for key in ["p50Micros", "p90Micros", "p99Micros", "p999Micros", "maxMicros"] {
            #expect(summary[key] is NSNumber, "\(key) missing in \(summary)")
        }
        #expect((int(summary, "maxMicros") ?? 0) > 0)
        #expect((int(summary, "p50Micros") ?? -1) <= (int(summary, "p99Micros") ?? -1))
    }

    @Test func p2pAtQoS1DeliversEveryMessageOnce() async throws {
        let broker = try await startBroker()
        let run = try await bench(["e2e", "--port", "\(broker.port)", "--shape", "p2p", "--qos", "1", "--clients", "2", "--duration", "2"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let sent = try #require(int(run.summary, "sent"), "no summary; stderr: \(run.stderr)")
        #expect(sent > 0)
        #expect(int(run.summary, "received") == sent)
        #expect(int(run.summary, "acked") == sent)
        #expect(int(run.summary, "errors") == 0, "\(run.summary["errorMessages"] ?? "")")
        #expect(int(run.summary, "latencySamples") == sent)
        #expect(int(run.summary, "publishers") == 2 && int(run.summary, "subscribers") == 2)
        expectLatencyFields(run.summary)
    }

    @Test func p2pAtQoS2OverMQTT5DeliversEveryMessageExactlyOnce() async throws {
        let broker = try await startBroker()
        let run = try await bench([
            "e2e", "--port", "\(broker.port)", "--shape", "p2p", "--qos", "2", "--duration", "2", "--mqtt-version", "5",
        ])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let sent = try #require(int(run.summary, "sent"), "no summary; stderr: \(run.stderr)")
        #expect(sent > 0)
        #expect(int(run.summary, "received") == sent)
        #expect(int(run.summary, "acked") == sent)
        #expect(int(run.summary, "errors") == 0, "\(run.summary["errorMessages"] ?? "")")
        #expect(run.summary["mqttVersion"] as? String == "5.0")
        expectLatencyFields(run.summary)
    }

    @Test func p2pAtQoS2OverMQTT311KeepsWithinTheBrokersInFlightLimit() async throws {
        let broker = try await startBroker()
        let run = try await bench(["e2e", "--port", "\(broker.port)", "--shape", "p2p", "--qos", "2", "--clients", "3", "--duration", "2"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let sent = try #require(int(run.summary, "sent"), "no summary; stderr: \(run.stderr)")
        #expect(sent > 0)
        #expect(int(run.summary, "received") == sent)
        #expect(int(run.summary, "acked") == sent)
        #expect(int(run.summary, "errors") == 0, "\(run.summary["errorMessages"] ?? "")")
        expectLatencyFields(run.summary)
    }

    @Test func fanInAtQoS0ReachesTheWildcardSubscriber() async throws {
        let broker = try await startBroker()
        let run = try await bench([
            "e2e", "--port", "\(broker.port)", "--shape", "fan-in", "--qos", "0", "--clients", "3", "--duration", "2",
            "--topic", "fan/%i/data",
        ])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let sent = try #require(int(run.summary, "sent"), "no summary; stderr: \(run.stderr)")
        let received = try #require(int(run.summary, "received"))
        #expect(sent > 0 && received > 0)
        #expect(received <= sent)
        #expect(int(run.summary, "subscribers") == 1 && int(run.summary, "publishers") == 3)
        #expect(int(run.summary, "errors") == 0, "\(run.summary["errorMessages"] ?? "")")
        expectLatencyFields(run.summary)
    }

    @Test func fanOutAtQoS1DeliversToEverySubscriberAtTheGivenRate() async throws {
        let broker = try await startBroker()
        let run = try await bench([
            "e2e", "--port", "\(broker.port)", "--shape", "fan-out", "--qos", "1", "--clients", "3", "--rate", "100",
            "--duration", "2",
        ])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let sent = try #require(int(run.summary, "sent"), "no summary; stderr: \(run.stderr)")
        // 100 msgs/s for 2 s from one publisher; allow for a loaded machine.
        #expect((120...202).contains(sent), "sent \(sent)")
        #expect(int(run.summary, "received") == sent * 3)
        #expect(int(run.summary, "errors") == 0, "\(run.summary["errorMessages"] ?? "")")
    }

    @Test func subCountsWhatASeparatePubProcessSends() async throws {
        let broker = try await startBroker(["allow_anonymous true", "log_type all"])
        let subscriber = try TributaryProcess([
            "bench", "mqtt", "sub", "--port", "\(broker.port)", "--qos", "1", "--clients", "2", "--topic", "shared/topic",
            "--duration", "8", "--json",
        ])
        let subscribed = await eventually(timeout: .seconds(60)) {
            broker.log.components(separatedBy: "Sending SUBACK").count - 1 >= 2
        }
        try #require(subscribed, "mosquitto log: \(broker.log)")
        let publisher = try await bench([
            "pub", "--port", "\(broker.port)", "--qos", "1", "--rate", "100", "--topic", "shared/topic", "--duration", "1",
        ])
        #expect(publisher.status == 0, "stderr: \(publisher.stderr)")
        let sent = try #require(int(publisher.summary, "sent"))
        #expect(sent > 0 && int(publisher.summary, "acked") == sent)
        #expect(publisher.summary["latency"] as? String == "ack")
        #expect(int(publisher.summary, "latencySamples") == sent)

        #expect(await subscriber.exitStatus(timeout: .seconds(60)) == 0, "stderr: \(subscriber.standardError)")
        await settled(subscriber)
        let line = subscriber.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
        let summary = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        // Both subscribers get every message; the stamped payloads give end-to-end latency.
        #expect(int(summary, "received") == sent * 2, "\(summary)")
        #expect(int(summary, "latencySamples") == sent * 2)
        #expect(int(summary, "errors") == 0)
    }

    @Test func connHolds200Connections() async throws {
        let broker = try await startBroker()
        let run = try await bench(["conn", "--port", "\(broker.port)", "--clients", "200", "--duration", "2"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(int(run.summary, "connected") == 200, "\(run.summary); stderr: \(run.stderr)")
        #expect(int(run.summary, "held") == 200)
        #expect(int(run.summary, "connectFailures") == 0)
        #expect((int(run.summary, "latencySamples") ?? 0) == 200)
        #expect(run.summary["connectsPerSecond"] is NSNumber)
    }

    @Test func reportsTheCONNACKCodeOfARefusedConnection() async throws {
        let broker = try await startBroker(["allow_anonymous false"])
        let run = try await bench(["pub", "--port", "\(broker.port)", "--duration", "1"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("CONNACK notAuthorized (0x87)"), "stderr: \(run.stderr)")
    }

    @Test func reportsConnectionsTheBrokerLost() async throws {
        let broker = try await startBroker()
        let process = try TributaryProcess([
            "bench", "mqtt", "e2e", "--port", "\(broker.port)", "--rate", "50", "--duration", "30", "--json",
        ])
        // Both connections are up once mosquitto logged two clients; then the broker dies.
        let connected = await eventually(timeout: .seconds(60)) {
            broker.log.components(separatedBy: "New client connected").count - 1 >= 2
        }
        try #require(connected, "mosquitto log: \(broker.log)")
        broker.kill()
        let status = await process.exitStatus(timeout: .seconds(60))
        await settled(process)
        #expect(status == 1, "stdout: \(process.standardOutput) stderr: \(process.standardError)")
        let line = process.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
        let summary = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        #expect((int(summary, "errors") ?? 0) >= 2, "\(summary)")
        let messages = summary["errorMessages"] as? [String] ?? []
        #expect(messages.contains { $0.contains("connection lost") }, "\(messages)")
    }

    @Test func reportsAnUnreachableBroker() async throws {
        let port = try BenchMQTTMosquitto.freePort()
        let run = try await bench(["e2e", "--port", "\(port)", "--duration", "1"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("cannot connect to 127.0.0.1:\(port)"), "stderr: \(run.stderr)")
    }

    @Test func rejectsBadOptions() async throws {
        let badQoS = try await bench(["e2e", "--qos", "3"])
        #expect(badQoS.status == 64)
        #expect(badQoS.stderr.contains("--qos must be 0, 1 or 2"), "stderr: \(badQoS.stderr)")
        let badShape = try await bench(["e2e", "--shape", "fan-in", "--subscribers", "2"])
        #expect(badShape.status == 64)
        #expect(badShape.stderr.contains("fan-in has exactly one subscriber"), "stderr: \(badShape.stderr)")
        let tinyPayload = try await bench(["e2e", "--payload", "4"])
        #expect(tinyPayload.status == 64)
        #expect(tinyPayload.stderr.contains("--payload must be between 8"), "stderr: \(tinyPayload.stderr)")
    }
}
