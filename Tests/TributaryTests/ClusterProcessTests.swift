import Foundation
import JournalServer
import MetaService
import Testing

/// `tributary broker` clusters as real processes (one meta, one journal, two or three brokers)
/// driven by paho-mqtt clients (tests/paho/cluster.py): cross-broker delivery, shared groups,
/// sessions resuming on another broker, takeover, a broker killed under load, a broker joining.
@Suite("tributary broker cluster processes", .serialized)
struct ClusterProcessTests {
    @Test func publishOnOneBrokerReceiveOnTheOther() async throws {
        try PahoConformanceTests.requirePaho()
        let cluster = try await ClusterProcesses.start(brokers: 2)
        let ports = ["\(cluster.mqttPorts[1] ?? 0)", "\(cluster.mqttPorts[2] ?? 0)"]
        _ = try await cluster.runScenario("cross", ports)
        _ = try await cluster.runScenario("shared", ports)
        await cluster.stop()
    }

    @Test func persistentSessionResumesOnTheOtherBroker() async throws {
        try PahoConformanceTests.requirePaho()
        let cluster = try await ClusterProcesses.start(brokers: 2)
        _ = try await cluster.runScenario("session", ["\(cluster.mqttPorts[1] ?? 0)", "\(cluster.mqttPorts[2] ?? 0)"])
        await cluster.stop()
    }

    @Test func connectOnTheOtherBrokerTakesTheSessionOver() async throws {
        try PahoConformanceTests.requirePaho()
        let cluster = try await ClusterProcesses.start(brokers: 2)
        _ = try await cluster.runScenario("takeover", ["\(cluster.mqttPorts[1] ?? 0)", "\(cluster.mqttPorts[2] ?? 0)"])
        await cluster.stop()
    }

    @Test func killedBrokerLosesNoAcknowledgedMessageAndItsWillsFire() async throws {
        try PahoConformanceTests.requirePaho()
        // Two survivors: both run the session reaper for the dead broker; each will fires once.
        let cluster = try await ClusterProcesses.start(brokers: 3)
        let victim = try #require(cluster.brokers[1])
        _ = try await cluster.runScenario(
            "kill", ["\(cluster.mqttPorts[1] ?? 0)", "\(cluster.mqttPorts[3] ?? 0)", "\(victim.process.processIdentifier)"],
            timeout: .seconds(120))
        #expect(await victim.exitStatus() != nil, "broker 1 was killed")
        // The registration of the killed broker expires with its lease.
        let meta = cluster.metaClient()
        let gone = try await eventually(timeout: .seconds(20)) { try await meta.get("/nodes/broker/1").keyValue == nil }
        #expect(gone, "the dead broker's registration expires")
        #expect(try await meta.get("/nodes/broker/2").keyValue != nil, "the live broker stays registered")
        await meta.close()
        await cluster.stop()
    }

    @Test func brokerStartedUnderLoadTakesNewClients() async throws {
        try PahoConformanceTests.requirePaho()
        let cluster = try await ClusterProcesses.start(brokers: 2)
        let stopFile = TributaryProcess.temporaryDirectory() + "/stop-\(UUID().uuidString.prefix(8))"
        let tag = String(stopFile.split(separator: "/").last ?? "load")
        let port1 = "\(cluster.mqttPorts[1] ?? 0)"
        async let loader = cluster.runScenario("load", [port1, stopFile], timeout: .seconds(150))
        let port3 = try await cluster.startBroker(id: 3)
        _ = try await cluster.runScenario("joined", [port1, "\(port3)", tag])
        _ = FileManager.default.createFile(atPath: stopFile, contents: Data())
        _ = try await loader
        await cluster.stop()
    }

    @Test func brokersKeepWorkingWhenTheMetaLeaderIsKilled() async throws {
        try PahoConformanceTests.requirePaho()
        let cluster = try await ClusterProcesses.start(brokers: 2, metas: 3)
        let meta = cluster.metaClient()
        let leader = try await meta.leaderStatus()
        let ports = ["\(cluster.mqttPorts[1] ?? 0)", "\(cluster.mqttPorts[2] ?? 0)"]
        async let steady = cluster.runScenario("steady", ports, timeout: .seconds(120))
        // Kill the meta leader while QoS 1 messages flow from broker 1 to a subscriber on broker 2.
        let index = Int(leader.id) - 1
        try #require(cluster.metas.indices.contains(index), "leader \(leader.id) is one of the members")
        let victim = cluster.metas[index]
        victim.signal(SIGKILL)
        _ = await victim.exitStatus()
        print("meta leader killed:", try await steady.split(separator: "\n").filter { $0.contains("longest-ack-gap") })
        // Sessions (meta) still work: a persistent session moves between the brokers.
        _ = try await cluster.runScenario("session", ports)
        await meta.close()
        await cluster.stop()
    }

    @Test func brokersKeepWorkingWhenAJournalLeaderIsKilled() async throws {
        try PahoConformanceTests.requirePaho()
        // Three journal nodes; the brokers create the MQTT shards with three replicas each.
        let cluster = try await ClusterProcesses.start(
            brokers: 2, journals: 3, brokerEnvironment: ["TRIBUTARY_MQTT_SHARD_REPLICAS": "3"])
        let base = "jsteady/\(UUID().uuidString.prefix(8))"
        let shard = Self.mqttShard(of: base + "/t0", count: 16)
        let meta = cluster.metaClient()
        let stored = try #require(try await meta.get(ShardMetadata.key(shard: shard)).keyValue, "\(shard) is recorded in meta")
        let metadata = try ShardMetadata(bytes: stored.value)
        #expect(metadata.replicationFactor == 3)
        let leader = try #require(metadata.segments.last?.leader)
        let index = Int(leader) - 1
        try #require(cluster.journals.indices.contains(index), "leader \(leader) is one of the journal nodes")
        let ports = ["\(cluster.mqttPorts[1] ?? 0)", "\(cluster.mqttPorts[2] ?? 0)"]
        async let steady = cluster.runScenario("steady", ports + [base], timeout: .seconds(120))
        // Kill the leader of the shard the first topic is on while QoS 1 messages flow.
        cluster.journals[index].signal(SIGKILL)
        _ = await cluster.journals[index].exitStatus()
        print("journal leader killed:", try await steady.split(separator: "\n").filter { $0.contains("longest-ack-gap") })
        await meta.close()
        await cluster.stop()
    }

    /// The journal shard the brokers put `topic` on (as `MQTTShardMap`: 32-bit FNV-1a of the UTF-8
    /// bytes modulo the shard count; this target does not link BrokerServer).
    static func mqttShard(of topic: String, count: UInt32) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in topic.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return "mqtt-\(hash % count)"
    }
}
