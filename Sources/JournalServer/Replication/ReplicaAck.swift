/// Follower → leader: everything below `durableEnd` is fsynced on the follower.
public struct ReplicaAck: Sendable, Hashable {
    /// The segment.
    public var segmentID: UInt64
    /// The follower's epoch (the leader ignores acks from other epochs).
    public var epoch: Int32
    /// The follower's node id.
    public var replicaID: UInt64
    /// The follower's durable end offset (exclusive).
    public var durableEnd: Int64

    /// Creates an ack.
    public init(segmentID: UInt64, epoch: Int32, replicaID: UInt64, durableEnd: Int64) {
        self.segmentID = segmentID
        self.epoch = epoch
        self.replicaID = replicaID
        self.durableEnd = durableEnd
    }
}
