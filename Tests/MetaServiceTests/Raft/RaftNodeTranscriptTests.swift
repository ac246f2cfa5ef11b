@testable import MetaService
import Testing

@Suite("Raft core transcripts")
struct RaftNodeTranscriptTests {
    @Test("a leader is elected and appends a no-op entry of its term, which commits everywhere")
    func electionAppendsNoop() {
        var cluster = RaftTestCluster(voters: [1, 2, 3])
        cluster.elect(1)
        #expect(cluster[1].role == .leader)
        #expect(cluster[1].term == 2)
        let noop = cluster[1].log.entry(at: 2)
        #expect(noop?.kind == .noop && noop?.term == 2)
        cluster.tick(1)
        cluster.settle()
        for id: RaftNodeID in [1, 2, 3] {
            #expect(cluster[id].log.committed == 2)
            #expect(cluster[id].leaderID == 1)
            #expect(cluster.applied[id]?.map(\.index) == [1, 2])
        }
    }

    @Test("pre-vote does not bump the term; only a successful pre-vote starts the real election")
    func preVoteKeepsTerm() {
        var cluster = RaftTestCluster(voters: [1, 2, 3])
        cluster[1].campaign()
        #expect(cluster[1].role == .preCandidate)
        #expect(cluster[1].term == 1)
        let sent = cluster.flush()
        #expect(sent.count == 2)
        #expect(sent.allSatisfy { $0.term == 2 && $0.body == .requestVote(lastIndex: 1, lastTerm: 1, preVote: true, transfer: false) })
        cluster.deliver()
        #expect(cluster[2].term == 1 && cluster[3].term == 1)
        #expect(cluster[2].vote == 0)
        let responses = cluster.flush()
        #expect(responses.allSatisfy { $0.body == .voteResponse(granted: true, preVote: true) })
        cluster.deliver()
        #expect(cluster[1].role == .candidate)
        #expect(cluster[1].term == 2)
    }

    @Test("a voter rejects a candidate whose log is older than its own")
    func rejectsOlderLog() {
        var cluster = RaftTestCluster(voters: [1, 2, 3], options: RaftOptions(preVote: false, checkQuorum: false))
        cluster.elect(1)
        let vote = RaftMessage(from: 3, to: 2, term: 5, body: .requestVote(lastIndex: 1, lastTerm: 1, preVote: false, transfer: false))
        cluster[2].step(vote)
        #expect(cluster[2].term == 5)
        #expect(cluster[2].vote == 0)
        let reply = cluster.flush().filter { $0.from == 2 }
        #expect(reply == [RaftMessage(from: 2, to: 3, term: 5, body: .voteResponse(granted: false, preVote: false))])
    }

    @Test("with check-quorum, a follower that recently heard from its leader ignores vote requests (lease)")
    func leaseIgnoresVotes() {
        var cluster = RaftTestCluster(voters: [1, 2, 3])
        cluster.elect(1)
        let vote = RaftMessage(from: 3, to: 2, term: 9, body: .requestVote(lastIndex: 100, lastTerm: 9, preVote: false, transfer: false))
        cluster[2].step(vote)
        #expect(cluster[2].term == 2)
        #expect(cluster.flush().filter { $0.from == 2 }.isEmpty)
        // A leadership-transfer election overrides the lease.
        let transfer = RaftMessage(from: 3, to: 2, term: 9, body: .requestVote(lastIndex: 100, lastTerm: 9, preVote: false, transfer: true))
        cluster[2].step(transfer)
        #expect(cluster[2].term == 9 && cluster[2].vote == 3)
    }

    @Test("check-quorum: a leader that hears from no quorum for an election timeout steps down")
    func checkQuorumStepsDown() {
        var cluster = RaftTestCluster(voters: [1, 2, 3])
        cluster.elect(1)
        for _ in 0..<(RaftTestCluster.options.electionTimeout * 2) {
            cluster.tick(1, only: [1])
            cluster.flush()
            cluster.drop { _ in true }
        }
        #expect(cluster[1].role == .follower)
        #expect(cluster[1].term == 2)
        #expect(cluster[1].leaderID == 0)
    }

    @Test("a follower truncates conflicting entries and takes the leader's")
    func truncatesConflicts() {
        var cluster = RaftTestCluster(voters: [1, 2, 3], options: RaftOptions(preVote: false, checkQuorum: false))
        cluster.elect(1)
        // Node 1 appends entries that reach nobody, then loses leadership to node 2.
        _ = try? cluster[1].propose([1])
        _ = try? cluster[1].propose([2])
        cluster.flush()
        cluster.drop { _ in true }
        #expect(cluster[1].log.lastIndex == 4)
        cluster[2].campaign()
        cluster.settle(isolated: [1])
        #expect(cluster[2].role == .leader && cluster[2].term == 3)
        _ = try? cluster[2].propose([9])
        cluster.settle(isolated: [1])
        // Node 1 rejoins: its entries 3 and 4 (term 2) conflict with term-3 entries.
        cluster.tick(1, only: [2])
        cluster.settle()
        #expect(cluster[1].role == .follower)
        #expect(cluster[1].log.entry(at: 3)?.term == 3)
        #expect(cluster[1].log.entry(at: 4)?.data == [9])
        #expect(cluster.storage[1]?.log.map(\.term) == [1, 2, 3, 3])
    }

    @Test("a rejection carries a conflict hint that skips the whole conflicting term at once")
    func fastBacktracking() {
        var cluster = RaftTestCluster(voters: [1, 2, 3], options: RaftOptions(preVote: false, checkQuorum: false))
        cluster.elect(1)
        for k in 0..<5 { _ = try? cluster[1].propose([UInt8(k)]) }
        cluster.flush()
        cluster.drop { _ in true }  // Node 1 alone holds entries 3...7 of term 2.
        cluster[2].campaign()
        cluster.settle(isolated: [1])
        for k in 0..<5 { _ = try? cluster[2].propose([UInt8(10 + k)]) }
        cluster.settle(isolated: [1])
        #expect(cluster[2].log.lastIndex == 8)
        // The leader optimistically probes node 1 at its own last index.
        cluster[2].progress[1]?.next = 9
        cluster[2].progress[1]?.probeSent = false
        cluster.tick(1, only: [2])
        cluster.settle()
        let rejects = cluster.sentLog.filter { message in
            if case .appendResponse(_, true, _, _) = message.body { return message.from == 1 }
            return false
        }
        // Follower hint: index 7 with term 2; the leader maps it to its last index of term <= 2.
        #expect(rejects.map(\.body) == [.appendResponse(index: 8, reject: true, rejectHint: 7, hintTerm: 2)])
        #expect(cluster[1].log.entries == cluster[2].log.entries)
    }

    @Test("an entry of an earlier term is not committed by counting replicas")
    func onlyCurrentTermCommits() {
        var cluster = RaftTestCluster(voters: [1, 2, 3], options: RaftOptions(preVote: false, checkQuorum: false))
        cluster.elect(1)
        _ = try? cluster[1].propose([7])
        cluster.flush()
        // Entry 3 (term 2) reaches node 2 only; its acknowledgement is lost.
        cluster.deliver { $0.to == 2 && $0.from == 1 }
        cluster.flush()
        cluster.drop { _ in true }
        #expect(cluster[2].log.lastIndex == 3 && cluster[1].log.committed == 2)
        // Node 2 becomes leader of term 3 with votes from 3, without appending anything yet.
        cluster[2].campaign()
        cluster.flush()
        cluster.deliver { $0.to == 3 }
        cluster.flush()
        cluster.deliver { $0.to == 2 }
        #expect(cluster[2].role == .leader)
        // Node 2's append (noop at 4) reaches node 3, which reports match 3 only by rejecting...
        // Simulate node 3 acknowledging just index 3: commitment must wait for the term-3 no-op.
        cluster[2].step(RaftMessage(from: 3, to: 2, term: 3, body: .appendResponse(index: 3, reject: false, rejectHint: 0, hintTerm: 0)))
        #expect(cluster[2].log.committed == 2)
        cluster[2].step(RaftMessage(from: 3, to: 2, term: 3, body: .appendResponse(index: 4, reject: false, rejectHint: 0, hintTerm: 0)))
        #expect(cluster[2].log.committed == 4)
    }

    @Test("a follower whose next entry was compacted receives a snapshot and catches up")
    func snapshotToLaggingFollower() throws {
        var cluster = RaftTestCluster(voters: [1, 2, 3])
        cluster.elect(1)
        for k in 0..<10 { _ = try? cluster[1].propose([UInt8(k)]) }
        cluster.settle(isolated: [3])
        #expect(cluster[1].log.committed == 12)
        let snapshot = try cluster[1].compact(upTo: 10, data: [42])
        try cluster.storage[1]?.compact(to: snapshot)
        #expect(cluster[1].log.firstIndex == 11)
        cluster.tick(1, only: [1])
        cluster.settle()
        #expect(cluster.sentLog.contains { message in
            if case .installSnapshot(let s) = message.body { return message.to == 3 && s.index == 10 && s.data == [42] }
            return false
        })
        #expect(cluster.storage[3]?.snapshot.index == 10)
        #expect(cluster[3].log.lastIndex == 12 && cluster[3].log.committed == 12)
        #expect(cluster[1].progress[3]?.state == .replicate)
        #expect(cluster.applied[3]?.map(\.index).last == 12)
    }

    @Test("ReadIndex is answered only after a heartbeat quorum confirms leadership")
    func readIndexNeedsQuorum() throws {
        var cluster = RaftTestCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.tick(1)
        cluster.settle()
        try cluster[1].readIndex(context: [7])
        let heartbeats = cluster.flush().filter { if case .heartbeat(_, 1) = $0.body { return true } else { return false } }
        #expect(heartbeats.count == 2)
        #expect(cluster.readStates[1, default: []].isEmpty)
        cluster.drop { _ in true }
        // Without acknowledgements nothing is answered, however long we wait for responses.
        cluster.flush()
        #expect(cluster.readStates[1, default: []].isEmpty)
        cluster[1].step(RaftMessage(from: 2, to: 1, term: 2, body: .heartbeatResponse(readSequence: 1)))
        cluster.flush()
        #expect(cluster.readStates[1] == [RaftReadState(index: 2, context: [7])])
    }

    @Test("a new leader holds reads until its no-op commits; followers forward reads")
    func readIndexWaitsForNoop() throws {
        var cluster = RaftTestCluster(voters: [1, 2, 3], options: RaftOptions(preVote: false))
        cluster[1].campaign()
        cluster.flush()
        cluster.deliver()
        cluster.flush()
        cluster.deliver { $0.to == 1 }
        #expect(cluster[1].role == .leader && cluster[1].log.committed == 1)
        try cluster[1].readIndex(context: [1])
        cluster.flush()
        #expect(cluster.readStates[1, default: []].isEmpty)
        cluster.settle()
        try cluster[2].readIndex(context: [2])
        cluster.settle()
        #expect(cluster.readStates[1] == [RaftReadState(index: 2, context: [1])])
        #expect(cluster.readStates[2] == [RaftReadState(index: 2, context: [2])])
    }

    @Test("leader transfer: the target is caught up, gets TimeoutNow and wins despite leases")
    func leaderTransfer() throws {
        var cluster = RaftTestCluster(voters: [1, 2, 3])
        cluster.elect(1)
        _ = try? cluster[1].propose([5])
        cluster.settle(isolated: [3])
        try cluster[1].transferLeadership(to: 3)
        #expect(throws: RaftError.transferInProgress) { try cluster[1].propose([6]) }
        cluster.tick(1, only: [1])
        cluster.settle()
        #expect(cluster[3].role == .leader)
        #expect(cluster[3].term == 3)
        #expect(cluster[1].role == .follower && cluster[1].leaderID == 3)
    }

    @Test("membership: one pending change at a time, effective on append, learners do not vote")
    func membership() throws {
        var cluster = RaftTestCluster(voters: [1, 2, 3], joiners: [4])
        cluster.elect(1)
        #expect(throws: RaftError.invalidConfChange(.removeVoter(1))) { try cluster[1].proposeConfChange(.removeVoter(1)) }
        try cluster[1].proposeConfChange(.addLearner(4))
        #expect(cluster[1].configuration.learners == [4])
        #expect(throws: RaftError.confChangePending) { try cluster[1].proposeConfChange(.promoteLearner(4)) }
        cluster.settle()
        #expect(cluster[4].configuration.learners == [4])
        #expect(cluster[4].log.lastIndex == cluster[1].log.lastIndex)
        #expect(!cluster[4].isPromotable)
        try cluster[1].proposeConfChange(.promoteLearner(4))
        cluster.settle()
        #expect(cluster[4].configuration.voters == [1, 2, 3, 4])
        try cluster[1].proposeConfChange(.removeVoter(2))
        #expect(cluster[1].configuration.voters == [1, 3, 4])
        cluster.settle()
        #expect(cluster[2].configuration.voters == [1, 3, 4])
        #expect(!cluster[2].isPromotable)
    }

    @Test("flow control: at most maxInflightMessages appends in flight, each within maxMessageBytes")
    func flowControl() {
        var cluster = RaftTestCluster(voters: [1, 2])
        cluster.elect(1)
        for _ in 0..<20 { _ = try? cluster[1].propose([UInt8](repeating: 1, count: 30)) }
        let appends = cluster.flush().filter { if case .appendEntries = $0.body { return $0.to == 2 } else { return false } }
        #expect(appends.count == RaftTestCluster.options.maxInflightMessages)
        for message in appends {
            if case .appendEntries(_, _, let entries, _) = message.body {
                #expect(entries.count == 1)  // 30-byte entries, a 64-byte budget (with overhead) per message
            }
        }
        cluster.settle()
        #expect(cluster[2].log.lastIndex == 22)
        #expect(cluster[1].log.committed == 22)
    }

    @Test("a restarted node recovers its term, vote and log, and not more")
    func restart() throws {
        var cluster = RaftTestCluster(voters: [1, 2, 3])
        cluster.elect(1)
        let disk = try #require(cluster.storage[2])
        let restarted = try RaftNode(id: 2, storage: disk, seed: 99)
        #expect(restarted.term == cluster[2].term)
        #expect(restarted.vote == 1)
        #expect(restarted.log.lastIndex == cluster[2].log.lastIndex)
        #expect(restarted.role == .follower)
    }

    @Test("a vote and the response granting it come out in the same ready, the vote to be persisted first")
    func voteIsPersistedWithResponse() throws {
        var cluster = RaftTestCluster(voters: [1, 2, 3], options: RaftOptions(preVote: false))
        cluster[2].step(RaftMessage(from: 1, to: 2, term: 2, body: .requestVote(lastIndex: 1, lastTerm: 1, preVote: false, transfer: false)))
        let maybeReady = cluster[2].ready()
        let ready = try #require(maybeReady)
        #expect(ready.hardState == RaftHardState(term: 2, vote: 1, commit: 1))
        #expect(ready.messages == [RaftMessage(from: 2, to: 1, term: 2, body: .voteResponse(granted: true, preVote: false))])
        // Until the ready is acknowledged no further ready is handed out.
        cluster[2].step(RaftMessage(from: 3, to: 2, term: 2, body: .requestVote(lastIndex: 1, lastTerm: 1, preVote: false, transfer: false)))
        #expect(cluster[2].ready() == nil)
        cluster[2].advance(ready)
        let maybeNext = cluster[2].ready()
        let next = try #require(maybeNext)
        #expect(next.hardState == nil)
        #expect(next.messages == [RaftMessage(from: 2, to: 3, term: 2, body: .voteResponse(granted: false, preVote: false))])
    }
}
