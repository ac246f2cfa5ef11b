import Foundation
import NIOCore
import Shared
import Synchronization
import Testing

@testable import MetaService

/// Membership changes on a live cluster while a writer keeps writing.
@Suite("MetaNode membership", .serialized)
struct MetaMembershipTests {
    @Test func addAndRemoveMembersWhileWritesContinue() async throws {
        let cluster = try MetaTestCluster()
        let leader = try #require(try await cluster.awaitLeader())
        let client = cluster.client()
        let acknowledged = Mutex<[Int]>([])
        let stop = Atomic<Bool>(false)
        let writer = Task {
            var sequence = 0
            while !stop.load(ordering: .relaxed) {
                if (try? await client.put("load/\(sequence)", Array("\(sequence)".utf8))) != nil {
                    acknowledged.withLock { $0.append(sequence) }
                }
                sequence += 1
            }
        }
        #expect(await eventually { acknowledged.withLock { $0.count } >= 20 })

        // Node 4 starts empty (joining), is added as a learner, catches up, then is promoted.
        try cluster.start(4)
        try await client.addMember(id: 4, address: "node-4", learner: true)
        #expect(await eventually {
            guard let mine = try? await cluster.status(4), let theirs = try? await cluster.status(leader) else { return false }
            return mine.applied > 0 && mine.applied + 5 >= theirs.commit
        }, "the learner did not catch up")
        try await client.addMember(id: 4, address: "node-4")
        let grown = try await client.leaderStatus()
        #expect(Set(grown.members.filter(\.voter).map(\.id)) == [1, 2, 3, 4])

        // A founder that is not the leader is removed, then stopped.
        let removed = try #require(grown.members.map(\.id).first { $0 != grown.id && $0 != 4 })
        try await client.removeMember(id: removed)
        await cluster.stop(removed)
        let shrunk = try await client.leaderStatus()
        #expect(!shrunk.members.map(\.id).contains(removed))
        #expect(shrunk.members.count == 3)

        let before = acknowledged.withLock { $0.count }
        #expect(await eventually { acknowledged.withLock { $0.count } >= before + 20 }, "writes stopped after the changes")
        stop.store(true, ordering: .relaxed)
        _ = await writer.value

        let stored = Set(try await client.range(prefix: "load/").keyValues.map(\.key))
        let lost = acknowledged.withLock { $0 }.filter { !stored.contains("load/\($0)") }
        #expect(lost.isEmpty, "acknowledged but lost: \(lost.prefix(10))")
        // The new member holds the same data.
        #expect(await eventually { (try? await cluster.status(4).revision) == (try? await cluster.status(shrunk.id).revision) })
        await cluster.shutdown()
    }

    @Test func leadershipCanBeTransferred() async throws {
        let cluster = try MetaTestCluster()
        let leader = try #require(try await cluster.awaitLeader())
        let target = try #require(cluster.peers.keys.sorted().first { $0 != leader })
        let client = cluster.client()
        try await client.put("before", [1])
        try await client.transferLeader(to: target)
        #expect(await eventually { (try? await cluster.status(target).role) == .leader }, "leadership did not move")
        try await client.put("after", [2])
        #expect(try await client.get("before").keyValue?.value == [1])
        await cluster.shutdown()
    }
}
