/// The `attributes` field of a record batch.
public struct RecordBatchAttributes: Sendable, Hashable {
    /// The raw 16-bit value.
    public var rawValue: Int16

    /// Wraps a raw value.
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// No compression, create-time timestamps, not transactional, not a control batch.
    public static let none = RecordBatchAttributes(rawValue: 0)

    /// Bits 0–2: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd.
    public var compressionCodec: Int { Int(rawValue & 0x7) }
    /// Bit 3: timestamps were set by the log (append time) rather than the producer.
    public var isLogAppendTime: Bool { rawValue & 0x8 != 0 }
    /// Bit 4: the batch belongs to a transaction.
    public var isTransactional: Bool { rawValue & 0x10 != 0 }
    /// Bit 5: the batch is a control batch (transaction markers).
    public var isControlBatch: Bool { rawValue & 0x20 != 0 }
}
