import NIOCore
import Testing

@testable import JournalServer

/// Transcripts of the leader: each event in, the exact actions out.
@Suite struct SegmentReplicaLeaderTests {
    typealias S = ReplicationTestSupport
    let a = S.followerA
    let b = S.followerB

    @Test func quorumAppendSucceedsWithLeaderAndOneFollowerWhileTheSlowFollowerLags() throws {
        var leader = S.leader()
        let first = try S.batch("x", 3, base: 0)
        #expect(leader.handle(.append(requestID: 1, records: S.records("x", 3), policy: .quorum)) == [
            .appendLocally(first), .send(to: a, S.push([first])), .send(to: b, S.push([first])),
        ])
        #expect(leader.handle(.localDurable(end: 3)) == [])
        #expect(leader.handle(.ack(S.ack(a, 3))) == [.highWatermarkAdvanced(3), .appendSucceeded(requestID: 1, baseOffset: 0, lastOffset: 2)])
        // The slow follower never answered; the next append still completes with the fast one.
        let second = try S.batch("y", 1, base: 3)
        #expect(leader.handle(.append(requestID: 2, records: S.records("y"), policy: .quorum)) == [
            .appendLocally(second), .send(to: a, S.push([second], highWatermark: 3)), .send(to: b, S.push([second], highWatermark: 3)),
        ])
        #expect(leader.handle(.ack(S.ack(a, 4))) == [])
        #expect(leader.handle(.localDurable(end: 4)) == [.highWatermarkAdvanced(4), .appendSucceeded(requestID: 2, baseOffset: 3, lastOffset: 3)])
        #expect(leader.highWatermark == 4)
        #expect(leader.acknowledgedEnd(of: b) == 0)
    }

    @Test func allWaitsForEveryReplica() throws {
        var leader = S.leader()
        let batch = try S.batch("x", 2, base: 0)
        _ = leader.handle(.append(requestID: 9, records: S.records("x", 2), policy: .all))
        #expect(leader.handle(.localDurable(end: 2)) == [])
        #expect(leader.handle(.ack(S.ack(a, 2))) == [.highWatermarkAdvanced(2)])
        // A partial ack from the last follower is not enough.
        #expect(leader.handle(.ack(S.ack(b, 1))) == [])
        #expect(leader.handle(.ack(S.ack(b, 2))) == [.appendSucceeded(requestID: 9, baseOffset: 0, lastOffset: 1)])
        #expect(batch.endOffset == 2)
    }

    @Test func leaderPolicyAcksAfterLocalDurabilityOnly() throws {
        var leader = S.leader()
        _ = leader.handle(.append(requestID: 4, records: S.records("x"), policy: .leader))
        #expect(leader.handle(.localDurable(end: 1)) == [.appendSucceeded(requestID: 4, baseOffset: 0, lastOffset: 0)])
        // The high watermark still needs a majority.
        #expect(leader.highWatermark == 0)
        #expect(leader.handle(.ack(S.ack(b, 1))) == [.highWatermarkAdvanced(1)])
    }

    @Test func mixedPoliciesCompleteEachWhenItsOwnConditionHolds() throws {
        var leader = S.leader()
        _ = leader.handle(.append(requestID: 1, records: S.records("q"), policy: .quorum))
        _ = leader.handle(.append(requestID: 2, records: S.records("l"), policy: .leader))
        #expect(leader.handle(.localDurable(end: 2)) == [.appendSucceeded(requestID: 2, baseOffset: 1, lastOffset: 1)])
        #expect(leader.handle(.ack(S.ack(a, 1))) == [.highWatermarkAdvanced(1), .appendSucceeded(requestID: 1, baseOffset: 0, lastOffset: 0)])
    }

    @Test func followerWithNewerEpochFencesTheLeader() throws {
        var leader = S.leader()
        _ = leader.handle(.append(requestID: 1, records: S.records("x"), policy: .quorum))
        _ = leader.handle(.append(requestID: 2, records: S.records("y"), policy: .all))
        let reject = ReplicaReject(segmentID: S.segment, epoch: 6, replicaID: a, reason: .staleEpoch)
        #expect(leader.handle(.reject(reject)) == [
            .appendFailed(requestID: 1, .fenced(epoch: 6)), .appendFailed(requestID: 2, .fenced(epoch: 6)),
        ])
        #expect(!leader.isLeading)
        #expect(leader.handle(.append(requestID: 3, records: S.records("z"), policy: .quorum)) == [.appendFailed(requestID: 3, .notLeader)])
        // A fenced leader sends nothing more, not even heartbeats, and ignores late acks.
        #expect(leader.handle(.ack(S.ack(a, 2))) == [])
        for _ in 0..<10 { #expect(leader.handle(.tick) == []) }
    }

    @Test func ackFromNewerEpochAlsoFences() throws {
        var leader = S.leader()
        _ = leader.handle(.append(requestID: 1, records: S.records("x"), policy: .quorum))
        #expect(leader.handle(.ack(S.ack(b, 1, epoch: 9))) == [.appendFailed(requestID: 1, .fenced(epoch: 9))])
    }

    @Test func metaFenceFailsPendingAppendsAsNotLeader() throws {
        var leader = S.leader()
        _ = leader.handle(.append(requestID: 1, records: S.records("x"), policy: .quorum))
        #expect(leader.handle(.fence(epoch: 6)) == [.appendFailed(requestID: 1, .notLeader)])
        #expect(leader.fencedBy == 6)
    }

    @Test func staleAcksAndRejectsFromOlderEpochsAreIgnored() throws {
        var leader = S.leader()
        _ = leader.handle(.append(requestID: 1, records: S.records("x"), policy: .quorum))
        _ = leader.handle(.localDurable(end: 1))
        #expect(leader.handle(.ack(S.ack(a, 1, epoch: 4))) == [])
        let old = ReplicaReject(segmentID: S.segment, epoch: 4, replicaID: a, reason: .notContiguous(end: 0))
        #expect(leader.handle(.reject(old)) == [])
        #expect(leader.isLeading)
    }

    @Test func laggingFollowerIsRewoundToItsEnd() throws {
        var leader = S.leader()
        let batches = try (0..<3).map { try S.batch("r\($0)", 2, base: Int64($0) * 2) }
        for index in 0..<3 {
            _ = leader.handle(.append(requestID: UInt64(index), records: S.records("r\(index)", 2), policy: .quorum))
        }
        // Follower b lost the first push; it refuses the later ones and says where it is.
        let reject = ReplicaReject(segmentID: S.segment, epoch: 5, replicaID: b, reason: .notContiguous(end: 0))
        #expect(leader.handle(.reject(reject)) == [.send(to: b, S.push(batches))])
        // After b acknowledged 4, a late reject saying 2 does not rewind below the ack.
        _ = leader.handle(.ack(S.ack(b, 4)))
        let late = ReplicaReject(segmentID: S.segment, epoch: 5, replicaID: b, reason: .notContiguous(end: 2))
        #expect(leader.handle(.reject(late)) == [.send(to: b, S.push([batches[2]]))])
    }

    @Test func unacknowledgedDataIsResentAfterRetransmitTicksAndIdleFollowersGetHeartbeats() throws {
        var leader = S.leader(followers: [a])
        let batch = try S.batch("x", 1, base: 0)
        _ = leader.handle(.append(requestID: 1, records: S.records("x"), policy: .quorum))
        #expect(leader.handle(.tick) == [])
        #expect(leader.handle(.tick) == [])
        #expect(leader.handle(.tick) == [.send(to: a, S.push([batch]))])
        _ = leader.handle(.localDurable(end: 1))
        #expect(leader.handle(.ack(S.ack(a, 1))) == [.highWatermarkAdvanced(1), .appendSucceeded(requestID: 1, baseOffset: 0, lastOffset: 0)])
        for _ in 0..<5 { #expect(leader.handle(.tick) == []) }
        #expect(leader.handle(.tick) == [.send(to: a, S.push([], highWatermark: 1))])
    }

    @Test func inFlightBytesBoundWhatIsSentUntilAcksArrive() throws {
        let batches = try (0..<4).map { try S.batch("r\($0)", 1, base: Int64($0)) }
        let size = batches[0].sizeInBytes
        #expect(batches.allSatisfy { $0.sizeInBytes == size })
        var leader = S.leader(followers: [a], maxInFlightBytes: 2 * size, maxPushBytes: size)
        #expect(leader.handle(.append(requestID: 0, records: S.records("r0"), policy: .quorum)) == [
            .appendLocally(batches[0]), .send(to: a, S.push([batches[0]])),
        ])
        #expect(leader.handle(.append(requestID: 1, records: S.records("r1"), policy: .quorum)) == [
            .appendLocally(batches[1]), .send(to: a, S.push([batches[1]])),
        ])
        // Two batches are in flight: the third waits.
        #expect(leader.handle(.append(requestID: 2, records: S.records("r2"), policy: .quorum)) == [.appendLocally(batches[2])])
        #expect(leader.handle(.append(requestID: 3, records: S.records("r3"), policy: .quorum)) == [.appendLocally(batches[3])])
        #expect(leader.handle(.ack(S.ack(a, 1))) == [.send(to: a, S.push([batches[2]]))])
        #expect(leader.handle(.localDurable(end: 4)) == [
            .highWatermarkAdvanced(1), .appendSucceeded(requestID: 0, baseOffset: 0, lastOffset: 0),
        ])
        #expect(leader.handle(.ack(S.ack(a, 3))) == [
            .highWatermarkAdvanced(3),
            .appendSucceeded(requestID: 1, baseOffset: 1, lastOffset: 1),
            .appendSucceeded(requestID: 2, baseOffset: 2, lastOffset: 2),
            .send(to: a, S.push([batches[3]], highWatermark: 3)),
        ])
    }

    @Test func pushesAreBatchedUpToMaxPushBytes() throws {
        let batches = try (0..<3).map { try S.batch("r\($0)", 1, base: Int64($0)) }
        let size = batches[0].sizeInBytes
        var leader = S.leader(followers: [a], maxInFlightBytes: 1 << 20, maxPushBytes: 2 * size)
        // Follower unreachable at first: appends queue up, then a rewind sends them in pushes.
        for index in 0..<3 {
            _ = leader.handle(.append(requestID: UInt64(index), records: S.records("r\(index)"), policy: .quorum))
        }
        let reject = ReplicaReject(segmentID: S.segment, epoch: 5, replicaID: a, reason: .notContiguous(end: 0))
        #expect(leader.handle(.reject(reject)) == [
            .send(to: a, S.push([batches[0], batches[1]])), .send(to: a, S.push([batches[2]])),
        ])
    }

    @Test func aFollowerLaggingPastTheMemoryBoundIsCutOffAndReported() throws {
        let batches = try (0..<5).map { try S.batch("r\($0)", 1, base: Int64($0)) }
        let size = batches[0].sizeInBytes
        var leader = S.leader(maxRetainedBytes: 2 * size)
        for index in 0..<4 {
            _ = leader.handle(.append(requestID: UInt64(index), records: S.records("r\(index)"), policy: .quorum))
        }
        _ = leader.handle(.localDurable(end: 4))
        // The fast follower makes everything majority-durable; the batches beyond the bound go
        // although the slow follower never acknowledged them.
        #expect(leader.handle(.ack(S.ack(a, 4))) == [
            .highWatermarkAdvanced(4),
            .appendSucceeded(requestID: 0, baseOffset: 0, lastOffset: 0),
            .appendSucceeded(requestID: 1, baseOffset: 1, lastOffset: 1),
            .appendSucceeded(requestID: 2, baseOffset: 2, lastOffset: 2),
            .appendSucceeded(requestID: 3, baseOffset: 3, lastOffset: 3),
        ])
        // The slow follower's retransmission needs offset 0, which is gone: report it once.
        #expect(leader.handle(.tick) == [])
        #expect(leader.handle(.tick) == [])
        #expect(leader.handle(.tick) == [.followerTooFarBehind(b)])
        #expect(leader.handle(.tick) == [])
        #expect(leader.handle(.tick) == [])
        #expect(leader.handle(.tick) == [.send(to: a, S.push([], highWatermark: 4))])
        // Writes go on with the remaining majority; nothing more is sent to the cut-off follower.
        #expect(leader.handle(.append(requestID: 4, records: S.records("r4"), policy: .quorum)) == [
            .appendLocally(batches[4]), .send(to: a, S.push([batches[4]], highWatermark: 4)),
        ])
    }

    @Test func emptyAppendIsRefused() {
        var leader = S.leader()
        #expect(leader.handle(.append(requestID: 1, records: [], policy: .quorum)) == [.appendFailed(requestID: 1, .invalidRecords(.emptyBatch))])
        #expect(leader.logEnd == 0)
    }
}
