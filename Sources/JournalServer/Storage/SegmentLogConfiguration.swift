/// Settings of one shard's local log.
public struct SegmentLogConfiguration: Sendable, Hashable {
    /// Roll to a new segment when the next batch would make the active one larger than this.
    /// At most 2 GiB − 1 (file positions in the offset index are 32-bit).
    public var maxSegmentBytes: Int
    /// Roll when the active segment's first batch is this old (ms), or `nil` for never.
    public var maxSegmentAgeMilliseconds: Int64?
    /// Delete sealed segments whose newest record is older than this (ms), or `nil`.
    public var retentionMilliseconds: Int64?
    /// Delete the oldest sealed segments while the log stays at least this big without them, or `nil`.
    public var retentionBytes: Int?
    /// Bytes of log data between two sparse index entries.
    public var indexIntervalBytes: Int
    /// The largest accepted batch, in bytes.
    public var maxBatchBytes: Int
    /// When appends are fsynced.
    public var durability: DurabilityPolicy

    /// Creates a configuration; the defaults suit a production shard.
    public init(
        maxSegmentBytes: Int = 1 << 30,
        maxSegmentAgeMilliseconds: Int64? = 7 * 24 * 3600 * 1000,
        retentionMilliseconds: Int64? = 7 * 24 * 3600 * 1000,
        retentionBytes: Int? = nil,
        indexIntervalBytes: Int = 4096,
        maxBatchBytes: Int = RecordBatchHeader.defaultMaxBatchBytes,
        durability: DurabilityPolicy = .everyBatch
    ) {
        self.maxSegmentBytes = min(max(maxSegmentBytes, RecordBatchHeader.size), Int(Int32.max))
        self.maxSegmentAgeMilliseconds = maxSegmentAgeMilliseconds
        self.retentionMilliseconds = retentionMilliseconds
        self.retentionBytes = retentionBytes
        self.indexIntervalBytes = max(indexIntervalBytes, 1)
        self.maxBatchBytes = min(max(maxBatchBytes, RecordBatchHeader.size), Int(Int32.max))
        self.durability = durability
    }
}
