/// When appended data is fsynced before the append completes.
public enum DurabilityPolicy: Sendable, Hashable {
    /// Every append fsyncs before it completes (one fsync per append).
    case everyBatch
    /// Group commit: appends complete only after an fsync that covers them, shared by every
    /// append written before it started. An fsync starts as soon as appended data waits and no
    /// fsync of the log is running (appends arriving meanwhile wait for the next one), but not
    /// sooner than `milliseconds` after the previous fsync started: with 0 an idle log
    /// acknowledges after one fsync and a busy one batches whatever arrives during each fsync;
    /// a larger value trades latency for fewer fsyncs. ``SegmentLog/flush()`` fsyncs at once.
    case interval(milliseconds: Int64)
    /// Appends complete once written to the page cache; durability comes from replication.
    case never
}
