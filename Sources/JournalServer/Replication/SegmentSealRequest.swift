/// Meta → each replica of a segment being sealed: adopt `newEpoch` (fencing the old leader:
/// pushes from older epochs are refused and no further acks are sent) and report the durable end.
public struct SegmentSealRequest: Sendable, Hashable {
    /// The segment to seal.
    public var segmentID: UInt64
    /// The fencing epoch (greater than the segment's epoch).
    public var newEpoch: Int32

    /// Creates a request.
    public init(segmentID: UInt64, newEpoch: Int32) {
        self.segmentID = segmentID
        self.newEpoch = newEpoch
    }
}
