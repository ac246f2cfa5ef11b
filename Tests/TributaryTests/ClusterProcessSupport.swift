import Foundation
import Logging
import MetaService
import NIOCore
import Shared
import Testing

/// A cluster of real processes on loopback for tests: one meta node, one journal node and
/// `tributary broker`s (added with ``startBroker(id:)``). Every process is killed when the value
/// is released; data directories are temporary.
final class ClusterProcesses: @unchecked Sendable {
    let metaAddresses: [String]
    let metas: [TributaryProcess]
    let journal: TributaryProcess
    private(set) var brokers: [Int: TributaryProcess] = [:]
    private(set) var mqttPorts: [Int: Int] = [:]
    let leaseTtlMs: Int

    /// Every meta member, as `--meta` takes them.
    var metaAddress: String { metaAddresses.joined(separator: ",") }

    private init(metaAddresses: [String], metas: [TributaryProcess], journal: TributaryProcess, leaseTtlMs: Int) {
        self.metaAddresses = metaAddresses
        self.metas = metas
        self.journal = journal
        self.leaseTtlMs = leaseTtlMs
    }

    /// Starts `metas` meta nodes (ids 1…, one Raft group), a journal node, then `brokers` brokers
    /// (ids 1…).
    static func start(brokers: Int, metas: Int = 1, leaseTtlMs: Int = 2000) async throws -> ClusterProcesses {
        let ports = try await MetaClusterProcessTests.freePorts(metas + 1)
        let metaAddresses = (0..<metas).map { "127.0.0.1:\(ports[$0])" }
        let peers = metaAddresses.enumerated().map { "\($0.offset + 1)=\($0.element)" }.joined(separator: ",")
        let journalAddress = "127.0.0.1:\(ports[metas])"
        var metaProcesses: [TributaryProcess] = []
        for (index, address) in metaAddresses.enumerated() {
            let data = TributaryProcess.temporaryDirectory()
            metaProcesses.append(try TributaryProcess(
                ["meta", "--id", "\(index + 1)", "--data-dir", data, "--listen", address, "--peers", peers, "--admin-port", "0",
                 "--tick-ms", "50"],
                dataDirectory: data))
        }
        for meta in metaProcesses { _ = try #require(await meta.readyFields(), "meta not ready: \(meta.standardError)") }
        let metaList = metaAddresses.joined(separator: ",")
        let journalData = TributaryProcess.temporaryDirectory()
        let journal = try TributaryProcess(
            ["journal", "--id", "1", "--data-dir", journalData, "--listen", journalAddress, "--meta", metaList,
             "--admin-port", "0", "--lease-ttl-ms", "3000"],
            dataDirectory: journalData)
        _ = try #require(await journal.readyFields(), "journal not ready: \(journal.standardError)")
        let cluster = ClusterProcesses(
            metaAddresses: metaAddresses, metas: metaProcesses, journal: journal, leaseTtlMs: leaseTtlMs)
        for id in 1...max(brokers, 1) where brokers > 0 { _ = try await cluster.startBroker(id: id) }
        return cluster
    }

    /// Starts broker `id` on free ports; returns its MQTT port once it is ready.
    @discardableResult
    func startBroker(id: Int) async throws -> Int {
        let data = TributaryProcess.temporaryDirectory()
        let broker = try TributaryProcess(
            ["broker", "--id", "\(id)", "--meta", metaAddress, "--data-dir", data, "--mqtt-port", "0", "--ws-port", "0",
             "--admin-port", "0", "--lease-ttl-ms", "\(leaseTtlMs)"],
            dataDirectory: data)
        let fields = try #require(await broker.readyFields(), "broker \(id) not ready: \(broker.standardError)")
        let port = try #require(fields["mqtt"]?.split(separator: ":").last.flatMap { Int($0) }, "no mqtt port: \(fields)")
        brokers[id] = broker
        mqttPorts[id] = port
        return port
    }

    /// A meta client of the cluster's meta node.
    func metaClient() -> MetaClient {
        MetaClient(addresses: metaAddresses, options: .init(timeout: .seconds(20))) { address in
            RPCClient(endpoints: RPCEndpoint(address).map { [$0] } ?? [], logger: Logger(label: "test.meta"))
        }
    }

    /// Runs `tests/paho/cluster.py` with `arguments`; expects exit 0 and "<scenario> ok".
    func runScenario(_ scenario: String, _ arguments: [String], timeout: Duration = .seconds(90)) async throws -> String {
        let script = PahoConformanceTests.repositoryRoot.appendingPathComponent("tests/paho/cluster.py").path
        let (status, output) = try await PahoConformanceTests.python([script, scenario, "127.0.0.1"] + arguments, timeout: timeout)
        #expect(status == 0 && output.contains("\(scenario) ok"), "\(scenario): \(output)\n\(logs())")
        return output
    }

    /// The brokers' standard error, for failure messages.
    func logs() -> String {
        brokers.sorted { $0.key < $1.key }.map { "broker \($0.key) stderr:\n\($0.value.standardError.suffix(4000))" }
            .joined(separator: "\n")
    }

    /// Stops everything with SIGTERM (brokers first) and checks that the brokers exit cleanly.
    func stop() async {
        for (id, broker) in brokers.sorted(by: { $0.key < $1.key }) where broker.process.isRunning {
            broker.signal(SIGTERM)
            let status = await broker.exitStatus()
            #expect(status == 0, "broker \(id) exit: \(String(describing: status)) \(broker.standardError.suffix(2000))")
        }
        journal.signal(SIGTERM)
        _ = await journal.exitStatus()
        for meta in metas where meta.process.isRunning {
            meta.signal(SIGTERM)
            _ = await meta.exitStatus()
        }
    }
}
