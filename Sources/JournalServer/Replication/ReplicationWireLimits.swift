/// Bounds applied while decoding replication messages from untrusted bytes, checked before
/// anything is buffered.
public struct ReplicationWireLimits: Sendable, Hashable {
    /// Most batches in one push.
    public var maxBatchesPerPush: Int
    /// Most bytes of one batch.
    public var maxBatchBytes: Int
    /// Most batch bytes in one push, all batches together.
    public var maxPushBytes: Int

    /// Creates limits.
    public init(
        maxBatchesPerPush: Int = 4096,
        maxBatchBytes: Int = RecordBatchHeader.defaultMaxBatchBytes,
        maxPushBytes: Int = 64 << 20
    ) {
        self.maxBatchesPerPush = maxBatchesPerPush
        self.maxBatchBytes = maxBatchBytes
        self.maxPushBytes = maxPushBytes
    }
}
