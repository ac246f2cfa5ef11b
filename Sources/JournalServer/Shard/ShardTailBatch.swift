/// What a tail delivers at a time: the matching records of one or more committed batches.
public struct ShardTailBatch: Sendable, Hashable {
    /// The records (never empty), in offset order, each with its offset.
    public var records: [Record]
    /// The offset after the last record examined (a cursor to resume the tail from).
    public var nextOffset: Int64

    /// Creates a batch.
    public init(records: [Record], nextOffset: Int64) {
        self.records = records
        self.nextOffset = nextOffset
    }
}
