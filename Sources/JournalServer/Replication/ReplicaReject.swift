/// Follower → leader: a push was refused.
public struct ReplicaReject: Sendable, Hashable {
    /// The segment.
    public var segmentID: UInt64
    /// The follower's current epoch.
    public var epoch: Int32
    /// The follower's node id.
    public var replicaID: UInt64
    /// Why.
    public var reason: ReplicaRejectReason

    /// Creates a reject.
    public init(segmentID: UInt64, epoch: Int32, replicaID: UInt64, reason: ReplicaRejectReason) {
        self.segmentID = segmentID
        self.epoch = epoch
        self.replicaID = replicaID
        self.reason = reason
    }
}
