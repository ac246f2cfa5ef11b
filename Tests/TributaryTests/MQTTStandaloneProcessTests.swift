import Foundation
import Testing

/// The MQTT role of `tributary standalone` as an operator runs it: a real process on free ports,
/// stopped with SIGTERM and restarted on the same data directory.
@Suite("tributary standalone MQTT", .serialized)
struct MQTTStandaloneProcessTests {
    func start(_ data: String) throws -> TributaryProcess {
        try TributaryProcess(["standalone", "--data-dir", data, "--admin-port", "0", "--rpc-port", "0", "--mqtt-port", "0", "--ws-port", "0"])
    }

    @Test func offlineMessagesAndRetainedMessagesSurviveARestart() async throws {
        let data = TributaryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let first = try start(data)
        let fields = try #require(await first.readyFields(), "stderr: \(first.standardError)")
        #expect(fields["roles"]?.split(separator: ",").contains("mqtt") == true)
        let mqtt = try #require(fields["mqtt"])
        #expect(!mqtt.hasSuffix(":0"), "port 0 must be replaced by the bound port")

        let (sleeper, present) = try await MQTTRawClient.connect(mqtt, clientIdentifier: "sleeper", cleanSession: false)
        #expect(!present)
        try await sleeper.subscribe("plant/#", qos: 1)
        try await sleeper.disconnect()

        let (publisher, _) = try await MQTTRawClient.connect(mqtt, clientIdentifier: "publisher", cleanSession: true)
        for index in 1...3 {
            try await publisher.publish("plant/line", "reading-\(index)", identifier: UInt16(index))
        }
        try await publisher.publish("plant/state", "running", retain: true, identifier: 9)
        try await publisher.disconnect()

        first.signal(SIGTERM)
        #expect(await first.exitStatus() == 0, "stderr: \(first.standardError)")

        let second = try start(data)
        let again = try #require(await second.readyFields(), "restart failed: \(second.standardError)")
        let mqttAgain = try #require(again["mqtt"])
        let (back, resumed) = try await MQTTRawClient.connect(mqttAgain, clientIdentifier: "sleeper", cleanSession: false)
        #expect(resumed, "the persistent session survives the restart")
        var line: [String] = []
        var state: [String] = []
        for _ in 0..<4 {
            let publish = try await back.nextPublish()
            if publish.topic == "plant/line" { line.append(publish.payload) } else { state.append(publish.payload) }
        }
        #expect(line == ["reading-1", "reading-2", "reading-3"], "acknowledged QoS 1 messages published while offline, in order")
        #expect(state == ["running"])

        let (fresh, _) = try await MQTTRawClient.connect(mqttAgain, clientIdentifier: "fresh", cleanSession: true)
        try await fresh.subscribe("plant/state", qos: 1)
        let retained = try await fresh.nextPublish()
        #expect(retained.retain && retained.payload == "running", "the retained message survives the restart")
        try await fresh.disconnect()
        try await back.disconnect()

        second.signal(SIGTERM)
        #expect(await second.exitStatus() == 0, "stderr: \(second.standardError)")
    }

    /// A port taken by another process stops the node with a message naming the listener, instead
    /// of leaving it running half started.
    @Test func aTakenMQTTPortStopsTheNodeNamingTheListener() async throws {
        let data = TributaryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let occupant = try TributaryProcess.standalone()
        defer { occupant.signal(SIGKILL) }
        let fields = try #require(await occupant.readyFields(), "stderr: \(occupant.standardError)")
        let taken = try #require(fields["mqtt-ws"]?.split(separator: ":").last.map(String.init))

        let second = try TributaryProcess([
            "standalone", "--data-dir", data, "--admin-port", "0", "--rpc-port", "0", "--mqtt-port", "0", "--ws-port", taken,
        ])
        let status = await second.exitStatus(timeout: .seconds(60))
        if status == nil { second.signal(SIGKILL) }
        #expect(status != nil && status != 0, "the node must exit, not hang: \(second.standardError.suffix(2000))")
        #expect(second.standardError.contains("cannot listen for mqtt-ws on 0.0.0.0:\(taken)"), "\(second.standardError.suffix(2000))")
    }
}
