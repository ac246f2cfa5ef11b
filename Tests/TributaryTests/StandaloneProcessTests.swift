import Foundation
import Testing

/// The `tributary` executable as an operator runs it: real process, real ports, real signals.
@Suite("tributary standalone process", .serialized)
struct StandaloneProcessTests {
    @Test func startsServesHealthAndMetricsAndStopsOnSIGTERM() async throws {
        let node = try TributaryProcess.standalone()
        let fields = try #require(await node.readyFields(), "no ready line; stderr: \(node.standardError)")
        let admin = try #require(fields["admin"])
        #expect(fields["node"] == "1")
        #expect(!admin.hasSuffix(":0"), "port 0 must be replaced by the bound port")

        let live = try await httpGet("http://\(admin)/health/live")
        #expect(live.status == 200)
        // Ready once every listener is bound and the meta role knows its leader (the single
        // voter elects itself within a few ticks); until then 503 names what is pending.
        var ready = try await httpGet("http://\(admin)/health/ready")
        if ready.status != 200 {
            #expect(ready.status == 503 && ready.body.contains("meta"), "unexpected: \(ready.status) \(ready.body)")
        }
        _ = try await eventually(timeout: .seconds(20)) {
            ready = try await httpGet("http://\(admin)/health/ready")
            return ready.status == 200
        }
        #expect(ready.status == 200)
        #expect(ready.body.contains("ready"))
        let metrics = try await httpGet("http://\(admin)/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.contentType?.hasPrefix("text/plain") == true)
        #expect(metrics.body.contains("tributary_node_info{"), "metrics: \(metrics.body.prefix(500))")

        node.signal(SIGTERM)
        #expect(await node.exitStatus() == 0, "stderr: \(node.standardError)")
        #expect(node.standardError.contains("stopped cleanly"))
    }

    @Test func ctlReachesTheNodeOverTheBinaryRPC() async throws {
        let node = try TributaryProcess.standalone()
        let fields = try #require(await node.readyFields())
        let rpc = try #require(fields["rpc"])
        #expect(!rpc.hasSuffix(":0"))
        let status = try TributaryProcess(["ctl", "status", "--meta", rpc])
        #expect(await status.exitStatus() == 0, "stderr: \(status.standardError)")
        #expect(status.standardOutput.contains("node=1"))
        #expect(status.standardOutput.contains("version="))
        let ping = try TributaryProcess(["ctl", "ping", "--meta", rpc, "--count", "2"])
        #expect(await ping.exitStatus() == 0)
        #expect(ping.standardOutput.contains("seq=2"))
        let admin = try #require(fields["admin"])
        let metrics = try await httpGet("http://\(admin)/metrics")
        #expect(metrics.body.contains("tributary_rpc_calls_total{"), "RPC calls are counted in /metrics")

        node.signal(SIGTERM)
        #expect(await node.exitStatus() == 0)
        let unreachable = try TributaryProcess(["ctl", "status", "--meta", rpc, "--timeout", "2"])
        #expect(await unreachable.exitStatus() == 1)
        #expect(unreachable.standardError.contains(rpc))
    }

    @Test func stopsCleanlyOnSIGINT() async throws {
        let node = try TributaryProcess.standalone()
        _ = try #require(await node.readyFields())
        node.signal(SIGINT)
        #expect(await node.exitStatus() == 0)
    }

    @Test func refusesASecondProcessOnTheSameDataDirectory() async throws {
        let first = try TributaryProcess.standalone()
        let fields = try #require(await first.readyFields())
        let data = try #require(fields["data"])
        let second = try TributaryProcess(["standalone", "--data-dir", data, "--admin-port", "0", "--rpc-port", "0"])
        #expect(await second.exitStatus() == 73)
        #expect(second.standardError.contains("is in use by another tributary process"))
    }

    @Test func refusesBadConfigurationNamingTheKey() async throws {
        let dir = TributaryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let badPort = try TributaryProcess(["standalone", "--data-dir", dir, "--admin-port", "99999"])
        #expect(await badPort.exitStatus() == 78)
        #expect(badPort.standardError.contains("admin.port"))

        let file = dir + "/bad.yaml"
        try "mqtt:\n  prot: 1883\n".write(toFile: file, atomically: true, encoding: .utf8)
        let unknownKey = try TributaryProcess(["standalone", "--config", file, "--data-dir", dir])
        #expect(await unknownKey.exitStatus() == 78)
        #expect(unknownKey.standardError.contains("unknown key 'mqtt.prot'"))

        let missing = try TributaryProcess(["standalone", "--config", dir + "/absent.yaml", "--data-dir", dir])
        #expect(await missing.exitStatus() == 78)
        #expect(missing.standardError.contains("no such file"))

        let typo = try TributaryProcess(["standalone", "--data-dir", dir], environment: ["TRIBUTARY_MQTT_PROT": "1"])
        #expect(await typo.exitStatus() == 78)
        #expect(typo.standardError.contains("TRIBUTARY_MQTT_PROT"))
    }

    @Test func jsonLogsAreOneObjectPerLine() async throws {
        let node = try TributaryProcess.standalone(extra: ["--log-format", "json"])
        _ = try #require(await node.readyFields())
        node.signal(SIGTERM)
        #expect(await node.exitStatus() == 0)
        let lines = node.standardError.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["level"] != nil && object?["msg"] != nil, "not a JSON log line: \(line)")
        }
    }
}

/// The standalone node runs the MetaService role: metadata written through it survives a
/// `kill -9` of the process.
@Suite("tributary standalone metadata durability", .serialized)
struct StandaloneMetaDurabilityTests {
    func start(_ data: String) throws -> TributaryProcess {
        try TributaryProcess(["standalone", "--data-dir", data, "--admin-port", "0", "--rpc-port", "0", "--mqtt-port", "0", "--ws-port", "0"])
    }

    func ctl(_ arguments: [String]) async throws -> (status: Int32?, out: String, err: String) {
        let process = try TributaryProcess(["ctl"] + arguments)
        let status = await process.exitStatus()
        return (status, process.standardOutput, process.standardError)
    }

    @Test func acknowledgedKeysSurviveKill9() async throws {
        let data = TributaryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let first = try start(data)
        let fields = try #require(await first.readyFields(), "stderr: \(first.standardError)")
        #expect(fields["roles"]?.split(separator: ",").contains("meta") == true)
        let rpc = try #require(fields["rpc"])
        for index in 1...5 {
            let put = try await ctl(["kv", "put", "durable/\(index)", "value-\(index)", "--meta", rpc])
            #expect(put.status == 0, "put failed: \(put.err)")
        }
        first.signal(SIGKILL)
        _ = await first.exitStatus()

        let second = try start(data)
        let again = try #require(await second.readyFields(), "restart failed: \(second.standardError)")
        let rpcAgain = try #require(again["rpc"])
        for index in 1...5 {
            var got: (status: Int32?, out: String, err: String) = (nil, "", "")
            // The restarted single voter elects itself within a few ticks; retry until then.
            _ = try await eventually(timeout: .seconds(20)) {
                got = try await ctl(["kv", "get", "durable/\(index)", "--meta", rpcAgain])
                return got.status == 0
            }
            #expect(got.status == 0, "get failed: \(got.err)")
            #expect(got.out.contains("value-\(index)"), "durable/\(index) lost after kill -9: \(got.out)")
        }
        second.signal(SIGTERM)
        #expect(await second.exitStatus() == 0)
    }
}
