import Foundation
import JournalServer
import Logging
import MetaService
import NIOCore
import Shared
import Synchronization
import Testing

/// A segment leader killed with SIGKILL and restarted at once, long before its lease expires:
/// it cannot resume leading (its in-memory replication state is gone), so it seals the segment
/// itself and writes resume on the next segment without waiting for the lease.
@Suite("replicated journal processes: a leader restarted within its lease", .serialized)
struct JournalReplicationRestartProcessTests {
    typealias Load = JournalReplicationProcessTests.Load
    typealias Ack = JournalReplicationProcessTests.Ack

    @Test func restartedLeaderSealsItsSegment() async throws {
        let ports = try await MetaClusterProcessTests.freePorts(4)
        let metaAddress = "127.0.0.1:\(ports[0])"
        let metaData = TributaryProcess.temporaryDirectory()
        let meta = try TributaryProcess(
            ["meta", "--id", "1", "--data-dir", metaData, "--listen", metaAddress, "--admin-port", "0", "--tick-ms", "50"],
            dataDirectory: metaData)
        defer { meta.signal(SIGKILL) }
        _ = try #require(await meta.readyFields(), "meta not ready: \(meta.standardError)")
        var directories: [UInt64: String] = [:]
        let processes = JournalReplicationProcessTests.Processes()
        defer {
            for process in processes.withLock({ Array($0.values) }) { process.signal(SIGKILL) }
            for directory in directories.values { try? FileManager.default.removeItem(atPath: directory) }
        }
        func startJournal(_ id: UInt64) async throws {
            let process = try TributaryProcess([
                "journal", "--id", "\(id)", "--data-dir", directories[id] ?? "", "--listen", "127.0.0.1:\(ports[Int(id)])",
                "--meta", metaAddress, "--admin-port", "0", "--lease-ttl-ms", "30000",
            ])
            processes.withLock { $0[id] = process }
            _ = try #require(await process.readyFields(), "journal \(id) not ready: \(process.standardError)")
        }
        for id: UInt64 in 1...3 {
            directories[id] = TributaryProcess.temporaryDirectory()
            try await startJournal(id)
        }
        let logger = Logger(label: "test.journal.restart")
        let metaClient = MetaClient(addresses: [metaAddress], options: .init(timeout: .seconds(20))) { address in
            RPCClient(endpoints: RPCEndpoint(address).map { [$0] } ?? [], logger: logger)
        }
        let client = JournalClusterClient(meta: metaClient, options: .init(timeout: .seconds(60)), logger: logger) { address in
            RPCClient(endpoints: RPCEndpoint(address).map { [$0] } ?? [], logger: logger)
        }
        _ = try await client.createShard("restart", settings: ShardSettings(replicationFactor: 3))
        let before = try #require(try await client.metadata(shard: "restart").activeSegment)

        let load = Load()
        let writers = load.startWriters(2, prefix: "r", shard: "restart", client: client)
        defer { writers.cancel() }
        let warmedUp = await eventually(timeout: .seconds(60)) { load.count >= 50 }
        #expect(warmedUp)

        // A follower killed and restarted within its lease reopens its replica from its files
        // and catches up from the leader: its high watermark reaches the leader's end.
        let follower = try #require(before.replicas.first { $0 != before.leader })
        processes.withLock { $0[follower] }?.signal(SIGKILL)
        _ = await processes.withLock { $0[follower] }?.exitStatus()
        try await startJournal(follower)
        let afterFollower = load.count + 50
        let continued = await eventually(timeout: .seconds(25)) { load.count >= afterFollower }
        #expect(continued, "writes go on while a follower restarts")
        #expect(try await client.metadata(shard: "restart").activeSegment == before, "a follower restart within its lease needs no seal")
        let followerClient = JournalClient(transport: RPCClient(
            endpoints: [RPCEndpoint(host: "127.0.0.1", port: ports[Int(follower)])], logger: logger))
        let caughtUp = try await eventually(timeout: .seconds(30)) {
            let leaderEnd = try await client.describeShard("restart").endOffset
            let followerEnd = try await followerClient.describeShard("restart").endOffset
            return followerEnd >= leaderEnd - 20 && followerEnd > Int64(afterFollower - 50)
        }
        #expect(caughtUp, "the restarted follower catches up")
        await (followerClient.transport as? RPCClient)?.shutdown()

        let killedAt = ContinuousClock.now
        processes.withLock { $0[before.leader] }?.signal(SIGKILL)
        _ = await processes.withLock { $0[before.leader] }?.exitStatus()
        try await startJournal(before.leader)
        let target = load.count + 50
        let resumed = await eventually(timeout: .seconds(25)) { load.count >= target }
        #expect(resumed, "writes resume before the 30 s lease expires; failures \(load.failures.withLock { $0.suffix(3) })")
        load.stop.withLock { $0 = true }
        await writers.value
        let recovery = ContinuousClock.now - killedAt
        print("journal leader restart: 50 more appends acknowledged \(recovery) after kill -9 + restart of leader \(before.leader)")

        let after = try await client.metadata(shard: "restart")
        #expect(after.segments.count >= 2 && after.segments[0].sealed, "record: \(after)")
        #expect((after.activeSegment?.epoch ?? 0) > before.epoch)

        let acks = load.acks.withLock { $0 }
        var byOffset: [Int64: String] = [:]
        var offset: Int64 = 0
        let end = try await client.describeShard("restart").endOffset
        while offset < end {
            let read = try await client.read(shard: "restart", from: offset)
            let fresh = read.records.filter { $0.offset >= offset }
            guard let last = fresh.last else { break }
            for record in fresh { byOffset[record.offset] = String(buffer: record.value ?? ByteBuffer()) }
            offset = last.offset + 1
        }
        let lost = acks.filter { byOffset[$0.offset] != $0.value }
        #expect(lost.isEmpty, "acknowledged records missing or moved: \(lost.prefix(5).map { "\($0.offset)=\($0.value)" })")
        await client.close()
        await metaClient.close()
    }
}
