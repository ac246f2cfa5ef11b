import Foundation
import Testing

/// `tributary bench mqtt conn` with source addresses and the broker's memory, against mosquitto.
@Suite(
    "tributary bench mqtt conn: source addresses, broker memory", .serialized,
    .enabled(if: BenchMQTTMosquitto.executable != nil, BenchMQTTMosquitto.unavailableReason)
)
struct BenchMQTTConnectionsTests {
    private func bench(_ arguments: [String]) async throws -> (status: Int32?, summary: [String: Any], stderr: String) {
        let process = try TributaryProcess(["bench", "mqtt"] + arguments + ["--json"])
        let status = await process.exitStatus(timeout: .seconds(120))
        _ = await eventually(timeout: .seconds(10)) {
            process.standardOutput.hasSuffix("}\n") || process.standardError.hasSuffix("\n")
        }
        let line = process.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
        let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        return (status, object, process.standardError)
    }

    private func int(_ summary: [String: Any], _ key: String) -> Int? {
        (summary[key] as? NSNumber)?.intValue
    }

    @Test func connectsFromEverySourceAddressAndReportsTheBrokersMemory() async throws {
        let broker = try BenchMQTTMosquitto()
        let listening = await broker.waitUntilListening()
        try #require(listening, "mosquitto did not start: \(broker.log)")
        let run = try await bench([
            "conn", "--port", "\(broker.port)", "--clients", "12", "--duration", "2",
            "--source-addresses", "127.0.0.2-127.0.0.4", "--broker-pid", "\(broker.process.processIdentifier)",
        ])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(int(run.summary, "held") == 12, "\(run.summary); stderr: \(run.stderr)")
        // mosquitto logs each MQTT client's source address: connection i comes from address i mod 3.
        for address in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
            let clients = broker.log.components(separatedBy: "New client connected from \(address):").count - 1
            #expect(clients == 4, "\(address): mosquitto log: \(broker.log)")
        }
        #expect((int(run.summary, "brokerRssBeforeKiB") ?? 0) > 0, "\(run.summary)")
        #expect((int(run.summary, "brokerRssHeldKiB") ?? 0) > 0, "\(run.summary)")
        #expect(run.summary["brokerBytesPerConnection"] is NSNumber, "\(run.summary)")
    }

    @Test func rejectsBadSourceAddressesAndBrokerPids() async throws {
        let backwards = try await bench(["conn", "--source-addresses", "127.0.0.9-127.0.0.2"])
        #expect(backwards.status == 64)
        #expect(backwards.stderr.contains("range must run upwards"), "stderr: \(backwards.stderr)")
        let notAnAddress = try await bench(["conn", "--source-addresses", "127.0.0.2,localhost"])
        #expect(notAnAddress.status == 64)
        #expect(notAnAddress.stderr.contains("'localhost' is not an IP address"), "stderr: \(notAnAddress.stderr)")
        let tooWide = try await bench(["conn", "--source-addresses", "10.0.0.0-10.0.2.0"])
        #expect(tooWide.status == 64)
        #expect(tooWide.stderr.contains("at most 256 addresses"), "stderr: \(tooWide.stderr)")
        let noSuchProcess = try await bench(["conn", "--broker-pid", "2147483646"])
        #expect(noSuchProcess.status == 64)
        #expect(noSuchProcess.stderr.contains("cannot read /proc/2147483646/status"), "stderr: \(noSuchProcess.stderr)")
        let notConn = try await bench(["e2e", "--broker-pid", "\(ProcessInfo.processInfo.processIdentifier)"])
        #expect(notConn.status == 64)
        #expect(notConn.stderr.contains("--broker-pid applies to conn only"), "stderr: \(notConn.stderr)")
    }
}
