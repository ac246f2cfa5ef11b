/// Where an appended batch landed.
public struct AppendResult: Sendable, Hashable {
    /// The offset of the batch's first record.
    public var baseOffset: Int64
    /// The offset of the batch's last record.
    public var lastOffset: Int64
    /// The log start offset at the time of the append.
    public var logStartOffset: Int64
    /// The batch's size in bytes as stored.
    public var sizeInBytes: Int

    /// Creates a result.
    public init(baseOffset: Int64, lastOffset: Int64, logStartOffset: Int64, sizeInBytes: Int) {
        self.baseOffset = baseOffset
        self.lastOffset = lastOffset
        self.logStartOffset = logStartOffset
        self.sizeInBytes = sizeInBytes
    }
}
