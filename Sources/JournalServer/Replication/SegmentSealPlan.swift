/// Where a segment is sealed and how each reporting replica gets there.
public struct SegmentSealPlan: Sendable, Hashable {
    /// What one replica does before the segment counts as sealed on it.
    public enum RepairStep: Sendable, Hashable {
        /// It already ends at the seal offset.
        case keep
        /// Copy `range` from replica `from` (which holds it durably).
        case fetch(from: UInt64, range: Range<Int64>)
        /// Drop everything at or after `to` (it was never acknowledged).
        case truncate(to: Int64)
    }

    /// The sealed segment's end offset (exclusive); the next segment starts here.
    public var sealOffset: Int64
    /// A replica that holds everything below `sealOffset` durably.
    public var source: UInt64
    /// The repair of every reporting replica.
    public var steps: [UInt64: RepairStep]

    /// Creates a plan.
    public init(sealOffset: Int64, source: UInt64, steps: [UInt64: RepairStep]) {
        self.sealOffset = sealOffset
        self.source = source
        self.steps = steps
    }
}
