import Foundation
import JournalServer
import Logging
import MetaService
import NIOCore
import Shared
import Synchronization
import Testing

/// One `tributary meta` and three `tributary journal` processes; a shard with replication 3;
/// writers appending through ``JournalClusterClient`` while a follower and then the segment
/// leader are killed with SIGKILL.
@Suite("replicated journal processes: placement, kill -9 failover", .serialized)
struct JournalReplicationProcessTests {
    struct Ack: Sendable {
        var value: String
        var offset: Int64
        var at: ContinuousClock.Instant
    }

    final class Load: Sendable {
        let acks = Mutex<[Ack]>([])
        let failures = Mutex<[String]>([])
        let stop = Mutex(false)
        var count: Int { acks.withLock { $0.count } }
    }

    final class Processes: Sendable {
        let running = Mutex<[UInt64: TributaryProcess]>([:])
        func withLock<T>(_ body: (inout [UInt64: TributaryProcess]) -> T) -> T { running.withLock { body(&$0) } }
    }

    @Test func replicatedShardSurvivesKill9OfFollowerAndLeader() async throws {
        let ports = try await MetaClusterProcessTests.freePorts(4)
        let metaAddress = "127.0.0.1:\(ports[0])"
        let metaData = TributaryProcess.temporaryDirectory()
        let meta = try TributaryProcess(
            ["meta", "--id", "1", "--data-dir", metaData, "--listen", metaAddress, "--admin-port", "0", "--tick-ms", "50"],
            dataDirectory: metaData)
        defer { meta.signal(SIGKILL) }
        _ = try #require(await meta.readyFields(), "meta not ready: \(meta.standardError)")
        var directories: [UInt64: String] = [:]
        let processes = Processes()
        defer {
            for process in processes.withLock({ Array($0.values) }) { process.signal(SIGKILL) }
            for directory in directories.values { try? FileManager.default.removeItem(atPath: directory) }
        }
        func address(_ id: UInt64) -> String { "127.0.0.1:\(ports[Int(id)])" }
        func startJournal(_ id: UInt64) async throws {
            let process = try TributaryProcess([
                "journal", "--id", "\(id)", "--data-dir", directories[id] ?? "", "--listen", address(id), "--meta", metaAddress,
                "--admin-port", "0", "--lease-ttl-ms", "1500",
            ])
            processes.withLock { $0[id] = process }
            _ = try #require(await process.readyFields(), "journal \(id) not ready: \(process.standardError)")
        }
        for id: UInt64 in 1...3 {
            directories[id] = TributaryProcess.temporaryDirectory()
            try await startJournal(id)
        }
        let logger = Logger(label: "test.journal.cluster")
        let metaClient = MetaClient(addresses: [metaAddress], options: .init(timeout: .seconds(20))) { address in
            RPCClient(endpoints: RPCEndpoint(address).map { [$0] } ?? [], logger: logger)
        }
        let client = JournalClusterClient(meta: metaClient, options: .init(timeout: .seconds(30)), logger: logger) { address in
            RPCClient(endpoints: RPCEndpoint(address).map { [$0] } ?? [], logger: logger)
        }
        let registered = try await eventually(timeout: .seconds(20)) {
            try await metaClient.range(prefix: "/nodes/journal/").keyValues.count == 3
        }
        #expect(registered)

        // Placement: three distinct nodes, one leader, epoch 1, recorded in meta.
        _ = try await client.createShard("orders", settings: ShardSettings(replicationFactor: 3))
        let placed = try await client.metadata(shard: "orders")
        let first = try #require(placed.activeSegment)
        #expect(Set(first.replicas) == [1, 2, 3] && first.replicas.count == 3 && first.epoch == 1)
        let describe = try await runCtl(["shard", "describe", "orders", "--journal", address(first.leader), "--timeout", "20"])
        #expect(describe.out.contains("replicas=\(first.replicas.map(String.init).joined(separator: ","))") && describe.out.contains("leader=\(first.leader)"),
                "describe: \(describe.out) \(describe.err)")

        // Four writers append one record per call; every acknowledgement is kept with its offset.
        let load = Load()
        let writers = Task {
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        var index = 0
                        while !load.stop.withLock({ $0 }) {
                            let value = "w\(writer)-\(index)"
                            index += 1
                            let record = Record(timestamp: 1, key: ByteBuffer(string: "k"), value: ByteBuffer(string: value), headers: [])
                            do {
                                let response = try await client.append(shard: "orders", records: [record])
                                load.acks.withLock { $0.append(Ack(value: value, offset: response.baseOffset, at: .now)) }
                            } catch {
                                load.failures.withLock { $0.append("\(value): \(error)") }
                            }
                        }
                    }
                }
            }
        }
        defer { writers.cancel() }
        func waitForAcks(_ more: Int, _ what: String) async throws {
            let target = load.count + more
            let reached = await eventually(timeout: .seconds(60)) { load.count >= target }
            #expect(reached, "\(what): \(load.count) of \(target) acknowledged; failures \(load.failures.withLock { $0.suffix(3) })")
        }
        try await waitForAcks(100, "before any kill")

        // kill -9 a follower: writes go on.
        let follower = try #require(first.replicas.first { $0 != first.leader })
        processes.withLock { $0[follower] }?.signal(SIGKILL)
        try await waitForAcks(100, "after killing follower \(follower)")
        try await startJournal(follower)
        try await waitForAcks(50, "after restarting follower \(follower)")

        // kill -9 the active segment's leader under load: writes resume on a new segment.
        let before = try #require(try await client.metadata(shard: "orders").activeSegment)
        let killedAt = ContinuousClock.now
        processes.withLock { $0[before.leader] }?.signal(SIGKILL)
        try await waitForAcks(200, "after killing leader \(before.leader)")
        load.stop.withLock { $0 = true }
        await writers.value

        let acks = load.acks.withLock { $0 }
        let resumed = try #require(acks.first { $0.at > killedAt }).at
        let pause = resumed - killedAt
        print("journal failover: writes resumed \(pause) after kill -9 of leader \(before.leader); \(acks.count) acknowledged appends")
        let after = try await client.metadata(shard: "orders")
        let active = try #require(after.activeSegment)
        #expect(active.epoch > before.epoch && !active.replicas.contains(before.leader), "record: \(after)")
        let earlierSealed = after.segments.dropLast().allSatisfy { $0.sealed }
        #expect(earlierSealed, "record: \(after)")

        // Every acknowledged record reads back at its offset, each offset once, in order.
        var records: [Record] = []
        var offset: Int64 = 0
        let end = try await client.describeShard("orders").endOffset
        while offset < end {
            let read = try await client.read(shard: "orders", from: offset)
            let fresh = read.records.filter { $0.offset >= offset }
            guard let last = fresh.last else { break }
            records += fresh
            offset = last.offset + 1
        }
        let offsets = records.map(\.offset)
        #expect(offsets == Array(0..<Int64(offsets.count)), "offsets are dense and in order")
        let byOffset = Dictionary(records.map { ($0.offset, String(buffer: $0.value ?? ByteBuffer())) }, uniquingKeysWith: { a, _ in a })
        let lost = acks.filter { byOffset[$0.offset] != $0.value }
        #expect(lost.isEmpty, "acknowledged records missing or moved: \(lost.prefix(5).map { "\($0.offset)=\($0.value)" })")

        await client.close()
        await metaClient.close()
    }
}
