/// The running state at the end of a segment: where the next batch goes, its offset, the largest
/// timestamp so far, and when the next sparse index entry is due. Append and recovery share it
/// so that both place index entries by the same rule.
struct SegmentTail: Sendable, Equatable {
    /// Bytes of valid data (the next batch's position).
    var size = 0
    /// The offset the next batch must start at.
    var nextOffset: Int64
    /// The largest record timestamp in the segment (`Int64.min` when empty).
    var maxTimestamp = Int64.min
    /// The `maxTimestamp` of the first batch (`nil` when empty); the anchor for roll-by-age.
    var firstBatchTimestamp: Int64?
    /// Bytes appended since the last index entry; starts "due" so the first batch is indexed.
    var bytesSinceIndexEntry = Int.max / 2

    init(baseOffset: Int64) {
        self.nextOffset = baseOffset
    }

    /// Accounts for a batch written at `size` and returns the index entries due for it.
    mutating func note(
        _ header: RecordBatchHeader,
        baseOffset: Int64,
        indexIntervalBytes: Int
    ) -> (OffsetIndex.Entry, TimeIndex.Entry)? {
        let position = size
        maxTimestamp = max(maxTimestamp, header.maxTimestamp)
        if firstBatchTimestamp == nil { firstBatchTimestamp = header.maxTimestamp }
        var entries: (OffsetIndex.Entry, TimeIndex.Entry)?
        if bytesSinceIndexEntry >= indexIntervalBytes {
            let relative = UInt32(truncatingIfNeeded: header.baseOffset - baseOffset)
            entries = (
                OffsetIndex.Entry(relativeOffset: relative, position: UInt32(truncatingIfNeeded: position)),
                TimeIndex.Entry(timestamp: maxTimestamp, relativeOffset: relative)
            )
            bytesSinceIndexEntry = 0
        }
        bytesSinceIndexEntry += header.totalSize
        size += header.totalSize
        nextOffset = header.nextOffset
        return entries
    }
}
