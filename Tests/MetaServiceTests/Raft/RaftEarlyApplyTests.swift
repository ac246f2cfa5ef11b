@testable import MetaService
import Testing

/// ``RaftNode/takeCommittedEntries()``: committed, durable entries handed out while a ready is
/// still being persisted — once, in order, never again in a later ready.
@Suite("Raft early application of committed entries")
struct RaftEarlyApplyTests {
    @Test("a leader hands out an entry once a quorum acknowledges it, while its next ready is still unpersisted")
    func leaderAppliesDuringPersist() throws {
        var cluster = RaftTestCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.tick(1)
        cluster.settle()
        #expect(cluster[1].log.committed == 2)

        let first = try cluster[1].propose([0xA1])
        cluster.flush()  // the leader persists entry 3 and sends it
        let second = try cluster[1].propose([0xB2])
        var leader = cluster[1]
        let taken = leader.ready()
        let outstanding = try #require(taken)  // entry 4: "being persisted"
        cluster[1] = leader
        #expect(outstanding.entries.map(\.index) == [second])
        #expect(cluster[1].takeCommittedEntries().isEmpty, "nothing is committed yet")

        cluster.deliver { $0.to != 1 }
        cluster.flush()  // followers persist entry 3 (and 4 if it was sent) and acknowledge
        cluster.deliver { $0.to == 1 }
        #expect(cluster[1].log.committed >= first)

        let early = cluster[1].takeCommittedEntries()
        #expect(early.map(\.index) == [first])
        #expect(early.first?.data == [0xA1])
        #expect(cluster[1].takeCommittedEntries().isEmpty, "handed out once")
        #expect(cluster[1].log.applied == first)

        // Entry 4 is not durable on the leader yet: it cannot be handed out early.
        try cluster.storage[1]?.persist(outstanding)
        cluster[1].advance(outstanding)
        cluster.applied[1] = []
        cluster.settle()
        cluster.tick(1)
        cluster.settle()
        let later = (cluster.applied[1] ?? []).map(\.index) + cluster[1].takeCommittedEntries().map(\.index)
        #expect(later == [second], "entry 3 is not delivered again; entry 4 follows")
        for id: RaftNodeID in [2, 3] {
            #expect(cluster.applied[id]?.map(\.index) == [1, 2, first, second])
        }
    }

    @Test("nothing is handed out while the outstanding ready carries committed entries of its own")
    func keepsOrderBehindAnOutstandingReady() throws {
        var cluster = RaftTestCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.tick(1)
        cluster.settle()
        _ = try cluster[1].propose([0x01])
        cluster.flush()
        cluster.deliver()
        cluster.flush()
        cluster.deliver()  // the leader commits entry 3
        cluster.tick(1)  // heartbeat carries the commit index to the followers
        cluster.flush()
        cluster.deliver()
        var follower = cluster[2]
        #expect(follower.log.committed == 3)
        let taken = follower.ready()
        let ready = try #require(taken)
        #expect(ready.committedEntries.map(\.index) == [3])
        #expect(follower.takeCommittedEntries().isEmpty)
        follower.advance(ready)
        #expect(follower.takeCommittedEntries().isEmpty, "entry 3 came with the ready")
        #expect(follower.log.applied == 3)
    }
}
