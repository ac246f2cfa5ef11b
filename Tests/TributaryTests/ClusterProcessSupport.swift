import Foundation
import Logging
import MetaService
import NIOCore
import Shared
import Testing

/// A cluster of real processes on loopback for tests: meta nodes, journal nodes and
/// `tributary broker`s (added with ``startBroker(id:)``). Every process is killed when the value
/// is released; data directories are temporary.
final class ClusterProcesses: @unchecked Sendable {
    let metaAddresses: [String]
    let metas: [TributaryProcess]
    /// Journal nodes; node id = index + 1.
    let journals: [TributaryProcess]
    let brokerEnvironment: [String: String]
    private(set) var brokers: [Int: TributaryProcess] = [:]
    private(set) var mqttPorts: [Int: Int] = [:]
    let leaseTtlMs: Int

    /// Every meta member, as `--meta` takes them.
    var metaAddress: String { metaAddresses.joined(separator: ",") }

    private init(
        metaAddresses: [String], metas: [TributaryProcess], journals: [TributaryProcess], brokerEnvironment: [String: String],
        leaseTtlMs: Int
    ) {
        self.metaAddresses = metaAddresses
        self.metas = metas
        self.journals = journals
        self.brokerEnvironment = brokerEnvironment
        self.leaseTtlMs = leaseTtlMs
    }

    /// Starts `metas` meta nodes (ids 1…, one Raft group), a journal node, then `brokers` brokers
    /// (ids 1…).
    static func start(
        brokers: Int, metas: Int = 1, journals: Int = 1, brokerEnvironment: [String: String] = [:], leaseTtlMs: Int = 2000
    ) async throws -> ClusterProcesses {
        let ports = try await MetaClusterProcessTests.freePorts(metas + journals)
        let metaAddresses = (0..<metas).map { "127.0.0.1:\(ports[$0])" }
        let peers = metaAddresses.enumerated().map { "\($0.offset + 1)=\($0.element)" }.joined(separator: ",")
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
        var journalProcesses: [TributaryProcess] = []
        for index in 0..<max(journals, 1) {
            let data = TributaryProcess.temporaryDirectory()
            journalProcesses.append(try TributaryProcess(
                ["journal", "--id", "\(index + 1)", "--data-dir", data, "--listen", "127.0.0.1:\(ports[metas + index])", "--meta", metaList,
                 "--admin-port", "0", "--lease-ttl-ms", "3000"],
                dataDirectory: data))
        }
        for journal in journalProcesses {
            _ = try #require(await journal.readyFields(), "journal not ready: \(journal.standardError)")
        }
        let cluster = ClusterProcesses(
            metaAddresses: metaAddresses, metas: metaProcesses, journals: journalProcesses, brokerEnvironment: brokerEnvironment,
            leaseTtlMs: leaseTtlMs)
        for id in 1...max(brokers, 1) where brokers > 0 { _ = try await cluster.startBroker(id: id) }
        return cluster
    }

    /// Cluster brokers refuse anonymous clients and deny what no ACL rule allows by default; these
    /// tests are about delivery and sessions, so their brokers open access explicitly (a test
    /// passing these keys itself overrides them).
    static let openAccess = ["TRIBUTARY_MQTT_ALLOW_ANONYMOUS": "true", "TRIBUTARY_AUTH_ACL_NO_MATCH": "allow"]

    /// Starts broker `id` on free ports; returns its MQTT port once it is ready.
    @discardableResult
    func startBroker(id: Int) async throws -> Int {
        let data = TributaryProcess.temporaryDirectory()
        let broker = try TributaryProcess(
            ["broker", "--id", "\(id)", "--meta", metaAddress, "--data-dir", data, "--mqtt-port", "0", "--ws-port", "0",
             "--admin-port", "0", "--lease-ttl-ms", "\(leaseTtlMs)"],
            environment: Self.openAccess.merging(brokerEnvironment) { _, given in given }, dataDirectory: data)
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
        for journal in journals where journal.process.isRunning {
            journal.signal(SIGTERM)
            _ = await journal.exitStatus()
        }
        for meta in metas where meta.process.isRunning {
            meta.signal(SIGTERM)
            _ = await meta.exitStatus()
        }
    }
}
