/// What meta assigned to a segment's leader, plus its flow-control settings.
public struct SegmentReplicaLeaderConfiguration: Sendable, Hashable {
    /// The segment.
    public var segmentID: UInt64
    /// The leader's epoch (stamped into every batch; followers fence older epochs).
    public var epoch: Int32
    /// This node's id.
    public var leaderID: UInt64
    /// The other replicas of the segment, in a fixed order (actions follow it).
    public var followers: [UInt64]
    /// The segment's first offset (where this leader's epoch starts).
    public var baseOffset: Int64
    /// Most batch bytes sent to one follower and not yet acknowledged by it.
    public var maxInFlightBytes: Int
    /// Most batch bytes in one push (a larger single batch still goes alone).
    public var maxPushBytes: Int
    /// Ticks without progress after which unacknowledged data is resent from the follower's
    /// acknowledged offset (lost pushes or acks).
    public var retransmitTicks: Int
    /// Ticks after which an idle follower gets an empty push (heartbeat with the high watermark).
    public var heartbeatTicks: Int
    /// Most bytes of batches kept in memory for followers that have not acknowledged them. Past
    /// it, batches below the high watermark are dropped and a follower that still needs them is
    /// reported with ``SegmentReplicaLeader/Action/followerTooFarBehind(_:)``.
    public var maxRetainedBytes: Int

    /// Creates a configuration.
    public init(
        segmentID: UInt64, epoch: Int32, leaderID: UInt64, followers: [UInt64], baseOffset: Int64,
        maxInFlightBytes: Int = 4 << 20, maxPushBytes: Int = 1 << 20, retransmitTicks: Int = 4, heartbeatTicks: Int = 10,
        maxRetainedBytes: Int = 64 << 20
    ) {
        self.segmentID = segmentID
        self.epoch = epoch
        self.leaderID = leaderID
        self.followers = followers
        self.baseOffset = baseOffset
        self.maxInFlightBytes = maxInFlightBytes
        self.maxPushBytes = maxPushBytes
        self.retransmitTicks = retransmitTicks
        self.heartbeatTicks = heartbeatTicks
        self.maxRetainedBytes = maxRetainedBytes
    }

    /// Replicas in the set, leader included.
    public var replicationFactor: Int { followers.count + 1 }
}
