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

        /// Starts `writers` tasks appending one record at a time to `shard` (values
        /// `<prefix><writer>-<index>`) until ``stop`` is set, recording each acknowledgement and failure.
        func startWriters(_ writers: Int, prefix: String, shard: String, client: JournalClusterClient) -> Task<Void, Never> {
            Task {
                await withTaskGroup(of: Void.self) { group in
                    for writer in 0..<writers {
                        group.addTask {
                            var index = 0
                            while !self.stop.withLock({ $0 }) {
                                let value = "\(prefix)\(writer)-\(index)"
                                index += 1
                                let record = Record(timestamp: 1, key: ByteBuffer(string: "k"), value: ByteBuffer(string: value), headers: [])
                                do {
                                    let response = try await client.append(shard: shard, records: [record])
                                    self.acks.withLock { $0.append(Ack(value: value, offset: response.baseOffset, at: .now)) }
                                } catch {
                                    self.failures.withLock { $0.append("\(value): \(error)") }
                                }
                            }
                        }
                    }
                }
            }
        }
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

        // ctl appends to the leader with an ack policy; a bad policy is refused by name.
        let ctlAppend = try await runCtl(
            ["shard", "append", "orders", "--key", "k", "--value", "ctl-all", "--ack", "all", "--journal", address(first.leader), "--timeout", "20"])
        #expect(ctlAppend.status == 0 && ctlAppend.out.contains("appended offsets 0-0"), "ctl append: \(ctlAppend.out) \(ctlAppend.err)")
        let badAck = try await runCtl(["shard", "append", "orders", "--value", "x", "--ack", "most", "--journal", address(first.leader)])
        #expect(badAck.status != 0 && badAck.err.contains("--ack must be leader, quorum or all"), "bad ack: \(badAck.err)")

        // Four writers append one record per call; every acknowledged record is kept with its
        // offset. A tail follows the shard from offset 0 across the failovers.
        let load = Load()
        let tailed = Load()
        let tail = Task {
            do {
                for try await batch in client.tail(shard: "orders", from: 0) {
                    tailed.acks.withLock { acks in
                        for record in batch.records {
                            acks.append(Ack(value: String(buffer: record.value ?? ByteBuffer()), offset: record.offset, at: .now))
                        }
                    }
                }
            } catch {
                tailed.failures.withLock { $0.append("tail: \(error)") }
            }
        }
        defer { tail.cancel() }
        let writers = load.startWriters(4, prefix: "w", shard: "orders", client: client)
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
        // The pause: the longest time without any acknowledgement from the kill on (answers
        // already on their way when the leader died can arrive just after it).
        var pause = Duration.zero
        var previous = killedAt
        for ack in acks.map(\.at).sorted() where ack > killedAt {
            pause = Swift.max(pause, ack - previous)
            previous = ack
        }
        print("journal failover: longest pause without acknowledgements \(pause) after kill -9 of leader \(before.leader); \(acks.count) acknowledged appends")
        #expect(pause < .seconds(20), "writes resume well within the client's retry deadline")
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

        // The tail crossed every segment boundary and node failure: each offset once, in order,
        // the same records as the read.
        let caughtUp = await eventually(timeout: .seconds(30)) { tailed.count >= records.count }
        #expect(caughtUp, "tail delivered \(tailed.count) of \(records.count); \(tailed.failures.withLock { $0 })")
        tail.cancel()
        _ = await tail.result
        let tailedRecords = tailed.acks.withLock { $0 }
        #expect(tailedRecords.map(\.offset) == Array(offsets.prefix(tailedRecords.count)), "tail offsets dense, in order, once each")
        #expect(tailedRecords.prefix(records.count).map(\.value) == records.map { String(buffer: $0.value ?? ByteBuffer()) })

        await client.close()
        await metaClient.close()
    }
}
