/// Leader → follower: batches of the active segment starting at `batches.first.baseOffset`
/// (an empty push is a heartbeat carrying the high watermark).
public struct ReplicaPush: Sendable, Hashable {
    /// The segment (meta's id, unique within the shard's history).
    public var segmentID: UInt64
    /// The sender's epoch; followers refuse pushes from lower epochs.
    public var epoch: Int32
    /// The sending leader's node id.
    public var leaderID: UInt64
    /// The first offset the sender's epoch wrote: a follower adopting this epoch drops any tail
    /// at or beyond it that it holds from an earlier epoch.
    public var epochStartOffset: Int64
    /// The leader's high watermark (readers never pass it).
    public var highWatermark: Int64
    /// Contiguous batches in offset order.
    public var batches: [ReplicatedBatch]

    /// Creates a push.
    public init(
        segmentID: UInt64, epoch: Int32, leaderID: UInt64, epochStartOffset: Int64, highWatermark: Int64,
        batches: [ReplicatedBatch]
    ) {
        self.segmentID = segmentID
        self.epoch = epoch
        self.leaderID = leaderID
        self.epochStartOffset = epochStartOffset
        self.highWatermark = highWatermark
        self.batches = batches
    }
}
