import NIOCore
import Testing

@testable import JournalServer

/// Transcripts of the follower: each event in, the exact actions out.
@Suite struct SegmentReplicaFollowerTests {
    typealias S = ReplicationTestSupport
    let me = S.followerA
    let leaderID = S.leaderID

    func follower(epoch: Int32 = 5, logEnd: Int64 = 0, leader: UInt64? = S.leaderID) -> SegmentReplicaFollower {
        SegmentReplicaFollower(segmentID: S.segment, replicaID: S.followerA, epoch: epoch, leaderID: leader, logEnd: logEnd)
    }

    func ack(_ durableEnd: Int64, epoch: Int32 = 5) -> ReplicationMessage {
        .ack(ReplicaAck(segmentID: S.segment, epoch: epoch, replicaID: S.followerA, durableEnd: durableEnd))
    }

    func reject(_ reason: ReplicaRejectReason, epoch: Int32 = 5) -> ReplicationMessage {
        .reject(ReplicaReject(segmentID: S.segment, epoch: epoch, replicaID: S.followerA, reason: reason))
    }

    @Test func appendsInOrderAndAcksOnlyAfterLocalDurability() throws {
        var follower = follower()
        let first = try S.batch("x", 2, base: 0)
        let second = try S.batch("y", 1, base: 2)
        #expect(follower.handle(.push(S.push([first, second], highWatermark: 0))) == [.appendLocally(first), .appendLocally(second)])
        #expect(follower.handle(.localDurable(end: 2)) == [.send(to: leaderID, ack(2))])
        #expect(follower.handle(.localDurable(end: 2)) == [])
        #expect(follower.handle(.localDurable(end: 3)) == [.send(to: leaderID, ack(3))])
        // A heartbeat carries the high watermark; nothing new, so it is answered at once.
        #expect(follower.handle(.push(S.push([], highWatermark: 3))) == [.highWatermarkAdvanced(3), .send(to: leaderID, ack(3))])
        #expect(follower.highWatermark == 3)
    }

    @Test func highWatermarkIsCappedAtWhatTheFollowerHolds() throws {
        var follower = follower()
        let batch = try S.batch("x", 2, base: 0)
        #expect(follower.handle(.push(S.push([batch], highWatermark: 10))) == [.appendLocally(batch), .highWatermarkAdvanced(2)])
    }

    @Test func pushFromOlderEpochIsRejectedWithTheCurrentEpoch() throws {
        var follower = follower(epoch: 6)
        let batch = try S.batch("x", 1, base: 0)
        #expect(follower.handle(.push(S.push([batch], epoch: 5))) == [.send(to: leaderID, reject(.staleEpoch, epoch: 6))])
        #expect(follower.writtenEnd == 0)
    }

    @Test func pushFromAnotherLeaderOfTheSameEpochIsRejected() throws {
        var follower = follower()
        let batch = try S.batch("x", 1, base: 0)
        #expect(follower.handle(.push(S.push([batch], leader: 9))) == [.send(to: 9, reject(.staleEpoch))])
    }

    @Test func gapIsRejectedWithTheFollowersEnd() throws {
        var follower = follower()
        let first = try S.batch("x", 2, base: 0)
        let later = try S.batch("z", 1, base: 3)
        _ = follower.handle(.push(S.push([first])))
        #expect(follower.handle(.push(S.push([later]))) == [.send(to: leaderID, reject(.notContiguous(end: 2)))])
    }

    @Test func duplicatesAreSkippedAndTheRestAppended() throws {
        var follower = follower()
        let first = try S.batch("x", 2, base: 0)
        let second = try S.batch("y", 1, base: 2)
        _ = follower.handle(.push(S.push([first])))
        _ = follower.handle(.localDurable(end: 2))
        // A resend overlapping what we hold: only the new batch is appended.
        #expect(follower.handle(.push(S.push([first, second]))) == [.appendLocally(second)])
        // A pure duplicate is acknowledged with the durable end right away.
        #expect(follower.handle(.push(S.push([first]))) == [.send(to: leaderID, ack(2))])
    }

    @Test func newEpochTruncatesTheTailBeyondItsStart() throws {
        // The follower wrote 0..<5 under epoch 5; the epoch-6 leader's epoch starts at 3.
        var follower = follower(logEnd: 5)
        let fromNewLeader = try S.batch("n", 2, base: 3, epoch: 6)
        #expect(follower.handle(.push(S.push([fromNewLeader], epoch: 6, leader: 4, epochStart: 3))) == [
            .truncate(to: 3), .appendLocally(fromNewLeader),
        ])
        #expect(follower.epoch == 6)
        #expect(follower.leaderID == 4)
        #expect(follower.handle(.localDurable(end: 5)) == [.send(to: 4, ack(5, epoch: 6))])
        // The old leader is now refused.
        let old = try S.batch("o", 1, base: 5)
        #expect(follower.handle(.push(S.push([old]))) == [.send(to: leaderID, reject(.staleEpoch, epoch: 6))])
    }

    @Test func newEpochStartingAtOrBeyondTheEndKeepsEverything() throws {
        var follower = follower(logEnd: 3)
        #expect(follower.handle(.push(S.push([], epoch: 6, leader: 4, epochStart: 3))) == [.send(to: 4, ack(3, epoch: 6))])
    }

    @Test func aFollowerWithoutAKnownLeaderKeepsItsDataForTheSameEpoch() throws {
        var follower = follower(logEnd: 4, leader: nil)
        let next = try S.batch("x", 1, base: 4)
        #expect(follower.handle(.push(S.push([next], epochStart: 0))) == [.appendLocally(next)])
        #expect(follower.leaderID == leaderID)
        #expect(follower.handle(.localDurable(end: 5)) == [.send(to: leaderID, ack(5))])
    }

    @Test func sealFencesReportsAndStopsAcking() throws {
        var follower = follower()
        let batch = try S.batch("x", 2, base: 0)
        let more = try S.batch("y", 1, base: 2)
        _ = follower.handle(.push(S.push([batch])))
        _ = follower.handle(.localDurable(end: 2))
        _ = follower.handle(.push(S.push([more])))
        let request = SegmentSealRequest(segmentID: S.segment, newEpoch: 6)
        #expect(follower.handle(.seal(request)) == [
            .replySeal(SegmentSealResponse(segmentID: S.segment, replicaID: me, epoch: 6, durableEnd: 2))
        ])
        // The write in progress becomes durable but is not acknowledged to the fenced leader.
        #expect(follower.handle(.localDurable(end: 3)) == [])
        #expect(follower.handle(.push(S.push([]))) == [.send(to: leaderID, reject(.staleEpoch, epoch: 6))])
        // A repeated request is answered again (meta retries), now with the later durable end.
        #expect(follower.handle(.seal(request)) == [
            .replySeal(SegmentSealResponse(segmentID: S.segment, replicaID: me, epoch: 6, durableEnd: 3))
        ])
    }

    @Test func messagesForOtherSegmentsAreIgnored() throws {
        var follower = follower()
        var push = S.push([try S.batch("x", 1, base: 0)])
        push.segmentID = 99
        #expect(follower.handle(.push(push)) == [])
        #expect(follower.handle(.seal(SegmentSealRequest(segmentID: 99, newEpoch: 8))) == [])
    }
}
