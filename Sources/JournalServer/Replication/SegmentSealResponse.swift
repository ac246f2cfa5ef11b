/// Replica → meta: fenced at `epoch`; everything below `durableEnd` is durable here.
public struct SegmentSealResponse: Sendable, Hashable {
    /// The segment.
    public var segmentID: UInt64
    /// The replica's node id.
    public var replicaID: UInt64
    /// The epoch the replica is now fenced at.
    public var epoch: Int32
    /// The replica's durable end offset (exclusive).
    public var durableEnd: Int64

    /// Creates a response.
    public init(segmentID: UInt64, replicaID: UInt64, epoch: Int32, durableEnd: Int64) {
        self.segmentID = segmentID
        self.replicaID = replicaID
        self.epoch = epoch
        self.durableEnd = durableEnd
    }
}
