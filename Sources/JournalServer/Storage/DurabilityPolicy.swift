/// When appended data is fsynced before the append completes.
public enum DurabilityPolicy: Sendable, Hashable {
    /// Every append fsyncs before it completes.
    case everyBatch
    /// Group commit: appends wait for a shared fsync that runs at most `milliseconds` after the
    /// first unsynced append (or earlier on ``SegmentLog/flush()``); each append completes only
    /// after the fsync that covers it.
    case interval(milliseconds: Int64)
    /// Appends complete once written to the page cache; durability comes from replication.
    case never
}
