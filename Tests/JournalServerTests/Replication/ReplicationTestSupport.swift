import NIOCore

@testable import JournalServer

/// Builders shared by the replication transcript tests.
enum ReplicationTestSupport {
    static let segment: UInt64 = 7
    static let leaderID: UInt64 = 1
    static let followerA: UInt64 = 2
    static let followerB: UInt64 = 3

    /// `count` records with values `"<tag>-<i>"`.
    static func records(_ tag: String, _ count: Int = 1) -> [Record] {
        (0..<count).map { Record(timestamp: 1_000 + Int64($0), value: ByteBuffer(string: "\(tag)-\($0)")) }
    }

    /// The batch the leader builds for `records(tag, count)` at `base` in `epoch`.
    static func batch(_ tag: String, _ count: Int = 1, base: Int64, epoch: Int32 = 5) throws -> ReplicatedBatch {
        try ReplicatedBatch(records: records(tag, count), baseOffset: base, epoch: epoch)
    }

    static func leader(
        followers: [UInt64] = [followerA, followerB], epoch: Int32 = 5, base: Int64 = 0,
        maxInFlightBytes: Int = 1 << 20, maxPushBytes: Int = 1 << 20, maxRetainedBytes: Int = 1 << 20
    ) -> SegmentReplicaLeader {
        SegmentReplicaLeader(
            configuration: SegmentReplicaLeaderConfiguration(
                segmentID: segment, epoch: epoch, leaderID: leaderID, followers: followers, baseOffset: base,
                maxInFlightBytes: maxInFlightBytes, maxPushBytes: maxPushBytes, retransmitTicks: 3, heartbeatTicks: 6,
                maxRetainedBytes: maxRetainedBytes))
    }

    static func push(
        _ batches: [ReplicatedBatch], epoch: Int32 = 5, leader: UInt64 = leaderID, epochStart: Int64 = 0, highWatermark: Int64 = 0
    ) -> ReplicaPush {
        ReplicaPush(
            segmentID: segment, epoch: epoch, leaderID: leader, epochStartOffset: epochStart, highWatermark: highWatermark,
            batches: batches)
    }

    static func ack(_ from: UInt64, _ durableEnd: Int64, epoch: Int32 = 5) -> ReplicaAck {
        ReplicaAck(segmentID: segment, epoch: epoch, replicaID: from, durableEnd: durableEnd)
    }
}
