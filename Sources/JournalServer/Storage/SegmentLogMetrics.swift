import Metrics

/// The metrics of a shard's local log, created once per log (never per message).
public struct SegmentLogMetrics: Sendable {
    /// Fsyncs of segment log files (appends, group commits, seals).
    public let fsyncs: Counter
    /// Batches appended.
    public let appendedBatches: Counter
    /// Bytes appended.
    public let appendedBytes: Counter
    /// Segments rolled.
    public let segmentsRolled: Counter
    /// Segments deleted by retention or truncation.
    public let segmentsDeleted: Counter
    /// Segments found corrupt.
    public let corruptSegments: Counter

    /// Creates the metrics with `factory` (the global one by default), labelled by `dimensions`.
    public init(factory: any MetricsFactory = MetricsSystem.factory, dimensions: [(String, String)] = []) {
        self.fsyncs = Counter(label: "tributary_journal_fsyncs_total", dimensions: dimensions, factory: factory)
        self.appendedBatches = Counter(label: "tributary_journal_appended_batches_total", dimensions: dimensions, factory: factory)
        self.appendedBytes = Counter(label: "tributary_journal_appended_bytes_total", dimensions: dimensions, factory: factory)
        self.segmentsRolled = Counter(label: "tributary_journal_segments_rolled_total", dimensions: dimensions, factory: factory)
        self.segmentsDeleted = Counter(label: "tributary_journal_segments_deleted_total", dimensions: dimensions, factory: factory)
        self.corruptSegments = Counter(label: "tributary_journal_corrupt_segments_total", dimensions: dimensions, factory: factory)
    }
}
