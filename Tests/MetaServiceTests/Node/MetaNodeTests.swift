import Foundation
import NIOCore
import Shared
import Testing

@testable import MetaService

/// Three MetaNodes in one process (in-process RPC, real WAL directories), driven by real time.
@Suite("MetaNode cluster", .serialized)
struct MetaNodeTests {
    func value(_ response: MetaGetResponse) -> String? {
        response.keyValue.map { String(decoding: $0.value, as: UTF8.self) }
    }

    @Test func electsALeaderAndAcceptsWritesThroughAFollower() async throws {
        let cluster = try MetaTestCluster()
        let leader = try #require(try await cluster.awaitLeader())
        let follower = try #require(cluster.peers.keys.sorted().first { $0 != leader })

        // A client that only knows a follower is redirected to the leader.
        let client = cluster.client([cluster.peers[follower] ?? ""])
        let result = try await client.put("config/a", Array("1".utf8))
        guard case .written(let revision, nil) = result else { Issue.record("unexpected \(result)"); return }
        #expect(revision == 1)

        // A linearizable read served by another follower sees the acknowledged write at once.
        let other = try #require(cluster.peers.keys.sorted().first { $0 != leader && $0 != follower })
        let reader = cluster.client([cluster.peers[other] ?? ""])
        let read = try await reader.get("config/a")
        #expect(value(read) == "1")
        #expect(read.revision >= 1)

        // A follower forwards a key-value write to the leader and returns the leader's answer.
        let direct = cluster.network.transport(cluster.peers[follower] ?? "")
        let forwarded = try await direct.call(MetaAPI.put, MetaPutRequest(key: "config/b", value: Array("2".utf8)))
        guard case .written(2, nil) = forwarded.result else { Issue.record("unexpected \(forwarded.result)"); return }
        let deleted = try await direct.call(MetaAPI.delete, MetaDeleteRequest(key: "config/b", prefix: false))
        #expect(deleted.result == .deleted(revision: 3, count: 1))
        let leaderRead = try await cluster.network.transport(cluster.peers[leader] ?? "").call(MetaAPI.get, MetaGetRequest(key: "config/a", serializable: true))
        #expect(value(leaderRead) == "1")
        #expect(leaderRead.revision == 3)

        // Other writes (leases, membership) are refused by a follower, naming the leader's address.
        do {
            _ = try await direct.call(MetaAPI.leaseGrant, MetaLeaseGrantRequest(id: 0, ttlMillis: 5_000))
            Issue.record("a follower granted a lease")
        } catch let error as RPCError {
            #expect(error.code == .notLeader)
            #expect(error.detail.map { String(buffer: $0) } == cluster.peers[leader])
        }
        // A forward that reaches a node that is not the leader is not forwarded again.
        do {
            _ = try await direct.call(MetaAPI.forwardWrite, MetaForwardWriteRequest(command: .put(key: "x", value: [], lease: 0)))
            Issue.record("a follower proposed a forwarded write")
        } catch let error as RPCError {
            #expect(error.code == .notLeader)
        }

        // Every replica applies the write.
        for id in cluster.peers.keys {
            #expect(await eventually { (try? await cluster.status(id).revision) == 3 }, "node \(id) did not apply")
        }
        let status = try await cluster.status(leader)
        #expect(status.members.count == 3)
        #expect(status.members.allSatisfy { $0.voter })
        await cluster.shutdown()
    }

    @Test func compareAndSetAndDeleteReportWhatHappened() async throws {
        let cluster = try MetaTestCluster()
        _ = try await cluster.awaitLeader()
        let client = cluster.client()
        let created = try await client.compareAndSet("lock", expect: .absent, value: Array("me".utf8))
        guard case .written(let revision, _) = created else { Issue.record("\(created)"); return }
        let lost = try await client.compareAndSet("lock", expect: .absent, value: Array("you".utf8))
        guard case .compareFailed(_, let current?) = lost else { Issue.record("\(lost)"); return }
        #expect(current.modRevision == revision)
        let deleted = try await client.delete("lock")
        guard case .deleted(_, 1) = deleted else { Issue.record("\(deleted)"); return }
        #expect(try await client.get("lock").keyValue == nil)
        await #expect(throws: RPCError.self) { try await client.put("", []) }
        await cluster.shutdown()
    }

    @Test func concurrentLinearizableReadsSeeThePrecedingWrite() async throws {
        let cluster = try MetaTestCluster()
        let leader = try #require(try await cluster.awaitLeader())
        let writer = cluster.client([cluster.peers[leader] ?? ""])
        for id in cluster.peers.keys.sorted() {
            let reader = cluster.client([cluster.peers[id] ?? ""])
            let written = try await writer.put("counter", Array("\(id)".utf8))
            guard case .written(let revision, _) = written else { Issue.record("\(written)"); return }
            let values = try await withThrowingTaskGroup(of: MetaGetResponse.self) { group in
                for _ in 0..<40 { group.addTask { try await reader.get("counter") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(values.count == 40)
            #expect(values.allSatisfy { $0.revision >= revision && $0.keyValue?.value == Array("\(id)".utf8) }, "node \(id) served a stale read")
        }
        await cluster.shutdown()
    }

    @Test func watchReplaysFromARevisionThenFollowsNewChanges() async throws {
        let cluster = try MetaTestCluster()
        _ = try await cluster.awaitLeader()
        let client = cluster.client()
        var revisions: [UInt64] = []
        for name in ["a", "b", "c"] {
            guard case .written(let revision, _) = try await client.put("watched/\(name)", Array(name.utf8)) else { return }
            revisions.append(revision)
        }
        try await client.put("other/z", [1])

        let stream = client.watch(prefix: "watched/", fromRevision: revisions[1])
        var iterator = stream.makeAsyncIterator()
        var seen: [String] = []
        while seen.count < 2, let batch = try await iterator.next() {
            seen += batch.events.map(\.keyValue.key)
        }
        #expect(seen == ["watched/b", "watched/c"])

        try await client.put("watched/d", [4])
        try await client.delete("watched/a")
        var live: [(WatchEvent.Kind, String)] = []
        while live.count < 2, let batch = try await iterator.next() {
            live += batch.events.map { ($0.kind, $0.keyValue.key) }
        }
        #expect(live.map(\.1) == ["watched/d", "watched/a"])
        #expect(live.map(\.0) == [.put, .delete])
        stream.cancel()
        await cluster.shutdown()
    }

    @Test func anExpiredLeaseDeletesItsKeys() async throws {
        let cluster = try MetaTestCluster()
        _ = try await cluster.awaitLeader()
        let client = cluster.client()
        let lease = try await client.grantLease(ttlMillis: 2000)
        try await client.put("sessions/s1", [1], lease: lease.id)

        // Kept alive for well over one TTL: the key stays.
        let until = ContinuousClock.now + .milliseconds(3000)
        while ContinuousClock.now < until {
            try await client.keepAlive(lease: lease.id)
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await client.get("sessions/s1").keyValue != nil)

        // No more keep-alives: the leader revokes the lease and the key goes.
        #expect(try await eventually(timeout: .seconds(10)) { try await client.get("sessions/s1").keyValue == nil })
        await #expect(throws: RPCError.self) { try await client.keepAlive(lease: lease.id) }
        await cluster.shutdown()
    }

    @Test func aRestartedNodeCatchesUpBySnapshot() async throws {
        let cluster = try MetaTestCluster(snapshotInterval: 20)
        let leader = try #require(try await cluster.awaitLeader())
        let lagging = try #require(cluster.peers.keys.sorted().first { $0 != leader })
        await cluster.stop(lagging)

        let client = cluster.client([cluster.peers[leader] ?? ""])
        for index in 0..<60 {
            try await client.put("keys/\(index)", Array("\(index)".utf8))
        }
        let leaderStatus = try await cluster.status(leader)
        #expect(leaderStatus.applied >= 60)

        // The leader compacted its log past everything the stopped node has.
        let leaderNode = try #require(cluster.nodes[leader])
        let compactedTo = try await leaderNode.eventLoop.submit { leaderNode.raft.log.snapshot.index }.get()
        #expect(compactedTo >= 40)

        try cluster.start(lagging)
        #expect(await eventually { (try? await cluster.status(lagging).revision) == leaderStatus.revision },
                "the restarted node did not catch up")
        let local = try await cluster.client([cluster.peers[lagging] ?? ""]).get("keys/59", serializable: true)
        #expect(value(local) == "59")
        let restarted = try #require(cluster.nodes[lagging])
        let installed = try await restarted.eventLoop.submit { restarted.raft.log.snapshot.index }.get()
        #expect(installed >= 20, "caught up without a snapshot")

        // History from before the installed snapshot is gone there: a watch from revision 1 is
        // refused with the oldest revision it could serve.
        do {
            for try await _ in cluster.client([cluster.peers[lagging] ?? ""]).watch(prefix: "keys/", fromRevision: 1) {}
            Issue.record("a watch from a compacted revision succeeded")
        } catch let error as RPCError {
            #expect(error.code == .failedPrecondition)
            var detail = try #require(error.detail)
            #expect(try detail.readVarint() > 1)
        }
        await cluster.shutdown()
    }
}
