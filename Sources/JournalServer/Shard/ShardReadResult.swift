/// Records read from a shard.
public struct ShardReadResult: Sendable, Hashable {
    /// The records in offset order, each with its offset; only durable records, none before
    /// the requested offset.
    public var records: [Record]
    /// Where the next read continues.
    public var nextOffset: Int64
    /// The shard's first stored offset when the read ran.
    public var startOffset: Int64
    /// The shard's durable end offset when the read ran.
    public var endOffset: Int64

    /// Creates a result.
    public init(records: [Record], nextOffset: Int64, startOffset: Int64, endOffset: Int64) {
        self.records = records
        self.nextOffset = nextOffset
        self.startOffset = startOffset
        self.endOffset = endOffset
    }
}
