import Foundation
import Logging
import MetaService
import NIOCore
import NIOPosix
import Shared
import Synchronization
import Testing

/// Three real `tributary meta` processes on loopback: failover under load and catch-up.
@Suite("tributary meta cluster processes", .serialized)
struct MetaClusterProcessTests {
    /// Free loopback ports (bound to port 0, then released).
    /// Ports that are free now, chosen below the kernel's ephemeral range: the meta processes
    /// need fixed addresses before they start, and a test running alongside that binds port 0 is
    /// only ever handed ephemeral ports, so it cannot take one of these between check and use.
    static func freePorts(_ count: Int) async throws -> [Int] {
        let rangeText = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let lowestEphemeral = rangeText.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first.flatMap { Int($0) } ?? 32768
        let candidates = 20000..<max(20100, min(lowestEphemeral, 32768))
        var ports: [Int] = []
        var attempts = 0
        while ports.count < count {
            attempts += 1
            guard attempts < 10_000 else { throw RPCError(.unavailable, "no free port below \(candidates.upperBound)") }
            let port = Int.random(in: candidates)
            if ports.contains(port) { continue }
            guard let channel = try? await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: "127.0.0.1", port: port).get() else { continue }
            try await channel.close()
            ports.append(port)
        }
        return ports
    }

    final class Cluster {
        let ids: [RaftNodeID] = [1, 2, 3]
        var addresses: [RaftNodeID: String] = [:]
        var directories: [RaftNodeID: String] = [:]
        var processes: [RaftNodeID: TributaryProcess] = [:]
        var peers: String { ids.map { "\($0)=\(addresses[$0] ?? "")" }.joined(separator: ",") }

        init(ports: [Int]) {
            for (id, port) in zip(ids, ports) {
                addresses[id] = "127.0.0.1:\(port)"
                directories[id] = TributaryProcess.temporaryDirectory()
            }
        }

        func start(_ id: RaftNodeID) throws {
            processes[id] = try TributaryProcess([
                "meta", "--id", String(id), "--data-dir", directories[id] ?? "", "--listen", addresses[id] ?? "",
                "--peers", peers, "--admin-port", "0", "--tick-ms", "50", "--snapshot-interval", "50",
            ])
        }

        func client() -> MetaClient {
            MetaClient(addresses: ids.compactMap { addresses[$0] }, options: .init(timeout: .seconds(20), attemptTimeout: .seconds(1))) { address in
                RPCClient(endpoints: RPCEndpoint(address).map { [$0] } ?? [], logger: Logger(label: "test.meta.client"))
            }
        }

        deinit {
            processes = [:]
            for directory in directories.values { try? FileManager.default.removeItem(atPath: directory) }
        }
    }

    @Test func survivesKillingTheLeaderAndTheKilledNodeCatchesUp() async throws {
        let cluster = Cluster(ports: try await Self.freePorts(3))
        for id in cluster.ids { try cluster.start(id) }
        for id in cluster.ids {
            let node = try #require(cluster.processes[id])
            let fields = try #require(await node.readyFields(), "node \(id) not ready: \(node.standardError)")
            #expect(fields["roles"] == "meta")
            #expect(fields["rpc"] == cluster.addresses[id])
        }
        let client = cluster.client()
        let first = try await client.leaderStatus()

        // A writer acknowledging puts one after another.
        let acknowledged = Mutex<[Int]>([])
        let stop = Atomic<Bool>(false)
        let writer = Task {
            var sequence = 0
            while !stop.load(ordering: .relaxed) {
                do {
                    try await client.put("load/\(sequence)", Array("\(sequence)".utf8))
                    acknowledged.withLock { $0.append(sequence) }
                } catch {
                    // Not acknowledged: it may or may not have been applied.
                }
                sequence += 1
            }
        }
        #expect(await eventually { acknowledged.withLock { $0.count } >= 30 })

        // kill -9 the leader mid-load; a new leader must emerge within a few election timeouts.
        cluster.processes[first.id]?.signal(SIGKILL)
        let killedAt = ContinuousClock.now
        let survivors = cluster.ids.filter { $0 != first.id }.compactMap { cluster.addresses[$0] }
        let watcher = MetaClient(addresses: survivors, options: .init(timeout: .seconds(20), attemptTimeout: .seconds(1))) { address in
            RPCClient(endpoints: RPCEndpoint(address).map { [$0] } ?? [], logger: Logger(label: "test.meta.client"))
        }
        let second = try await watcher.leaderStatus()
        #expect(second.id != first.id)
        #expect(ContinuousClock.now - killedAt < .seconds(10))
        let countAtFailover = acknowledged.withLock { $0.count }
        #expect(await eventually { acknowledged.withLock { $0.count } >= countAtFailover + 150 }, "writes did not resume")
        stop.store(true, ordering: .relaxed)
        _ = await writer.value

        // Every acknowledged write is readable (linearizably) afterwards.
        let stored = try await watcher.range(prefix: "load/")
        let keys = Set(stored.keyValues.map(\.key))
        let missing = acknowledged.withLock { $0 }.filter { !keys.contains("load/\($0)") }
        #expect(missing.isEmpty, "acknowledged but lost: \(missing.prefix(10))")

        // The killed node restarts from its data directory and catches up (by snapshot: the
        // leader compacted far past where it stopped).
        try cluster.start(first.id)
        _ = try #require(await cluster.processes[first.id]?.readyFields())
        let target = try await watcher.leaderStatus().revision
        let killedAddress = try #require(cluster.addresses[first.id])
        #expect(await eventually(timeout: .seconds(30)) {
            (try? await client.status(of: killedAddress).revision) ?? 0 >= target
        }, "the restarted node did not catch up")
        let local = try await MetaClient(addresses: [killedAddress]) { address in
            RPCClient(endpoints: RPCEndpoint(address).map { [$0] } ?? [], logger: Logger(label: "test.meta.client"))
        }.range(prefix: "load/", serializable: true)
        #expect(Set(local.keyValues.map(\.key)).isSuperset(of: keys))
        let restarted = try #require(cluster.processes[first.id])
        #expect(restarted.standardError.contains("installed a snapshot"), "caught up without a snapshot: \(restarted.standardError.suffix(2000))")
        await client.close()
        await watcher.close()
    }

    @Test func ctlReadsAndWritesKeysThroughAnyMember() async throws {
        let cluster = Cluster(ports: try await Self.freePorts(3))
        for id in cluster.ids { try cluster.start(id) }
        for id in cluster.ids {
            _ = try #require(await cluster.processes[id]?.readyFields(), "node \(id) not ready: \(cluster.processes[id]?.standardError ?? "")")
        }
        let anyMember = try #require(cluster.addresses[3])
        let put = try TributaryProcess(["ctl", "kv", "put", "greeting", "hello", "--meta", anyMember, "--timeout", "20"])
        #expect(await put.exitStatus() == 0, "stderr: \(put.standardError)")
        #expect(put.standardOutput.contains("OK revision="))
        let get = try TributaryProcess(["ctl", "kv", "get", "greeting", "--meta", cluster.addresses[1] ?? ""])
        #expect(await get.exitStatus() == 0, "stderr: \(get.standardError)")
        #expect(get.standardOutput.contains("greeting = hello"))
        let cas = try TributaryProcess(["ctl", "kv", "cas", "greeting", "again", "--expect-absent", "--meta", anyMember])
        #expect(await cas.exitStatus() == 1)
        #expect(cas.standardOutput.contains("compare failed"))
        let status = try TributaryProcess(["ctl", "meta", "status", "--meta", cluster.ids.compactMap { cluster.addresses[$0] }.joined(separator: ",")])
        #expect(await status.exitStatus() == 0, "stderr: \(status.standardError)")
        #expect(status.standardOutput.components(separatedBy: "role=leader").count == 2)
        let missing = try TributaryProcess(["ctl", "kv", "get", "absent", "--meta", anyMember])
        #expect(await missing.exitStatus() == 1)

        for process in cluster.processes.values { process.signal(SIGTERM) }
        for process in cluster.processes.values {
            #expect(await process.exitStatus() == 0, "stderr: \(process.standardError)")
        }
    }
}

/// Growing a running cluster of processes with `ctl meta add-member`, and `ctl kv watch`.
@Suite("tributary meta membership via ctl", .serialized)
struct MetaCtlMembershipProcessTests {
    @Test func aJoiningNodeIsAddedAsLearnerThenPromoted() async throws {
        let ports = try await MetaClusterProcessTests.freePorts(4)
        let cluster = MetaClusterProcessTests.Cluster(ports: Array(ports.prefix(3)))
        for id in cluster.ids { try cluster.start(id) }
        for id in cluster.ids {
            _ = try #require(await cluster.processes[id]?.readyFields(), "node \(id) not ready: \(cluster.processes[id]?.standardError ?? "")")
        }
        let founders = cluster.ids.compactMap { cluster.addresses[$0] }.joined(separator: ",")

        // From revision 1: the watch may subscribe after the put lands (process start-up on a
        // loaded machine); the history replays it either way.
        let watch = try TributaryProcess(["ctl", "kv", "watch", "app/", "--from-revision", "1", "--meta", cluster.addresses[2] ?? ""])
        let put = try TributaryProcess(["ctl", "kv", "put", "app/x", "1", "--meta", founders, "--timeout", "20"])
        #expect(await put.exitStatus() == 0, "stderr: \(put.standardError)")
        #expect(await eventually { watch.standardOutput.contains("PUT app/x = 1 revision=") }, "watch printed: \(watch.standardOutput)")

        let joinerAddress = "127.0.0.1:\(ports[3])"
        let joinerData = TributaryProcess.temporaryDirectory()
        let joiner = try TributaryProcess([
            "meta", "--id", "4", "--join", "--data-dir", joinerData, "--listen", joinerAddress,
            "--peers", cluster.peers, "--admin-port", "0", "--tick-ms", "50",
        ], dataDirectory: joinerData)
        _ = try #require(await joiner.readyFields(), "joiner not ready: \(joiner.standardError)")

        let addLearner = try TributaryProcess(["ctl", "meta", "add-member", "4", joinerAddress, "--learner", "--meta", founders, "--timeout", "20"])
        #expect(await addLearner.exitStatus() == 0, "stderr: \(addLearner.standardError)")
        #expect(await eventually {
            let get = try? TributaryProcess(["ctl", "kv", "get", "app/x", "--serializable", "--meta", joinerAddress])
            return await get?.exitStatus() == 0 && get?.standardOutput.contains("app/x = 1") == true
        }, "the learner never got the data")
        let promote = try TributaryProcess(["ctl", "meta", "add-member", "4", joinerAddress, "--meta", founders, "--timeout", "20"])
        #expect(await promote.exitStatus() == 0, "stderr: \(promote.standardError)")
        let status = try TributaryProcess(["ctl", "meta", "status", "--meta", joinerAddress])
        #expect(await status.exitStatus() == 0, "stderr: \(status.standardError)")
        #expect(status.standardOutput.components(separatedBy: " voter ").count == 5, "status: \(status.standardOutput)")

        let second = try TributaryProcess(["ctl", "kv", "put", "app/y", "2", "--meta", joinerAddress, "--timeout", "20"])
        #expect(await second.exitStatus() == 0, "stderr: \(second.standardError)")
        #expect(await eventually { watch.standardOutput.contains("PUT app/y = 2") })
        watch.signal(SIGINT)
        #expect(await watch.exitStatus() != nil)
    }
}
