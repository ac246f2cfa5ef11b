import Metrics

/// The metrics of one shard in a ``ShardStore``, created once when the shard opens.
struct ShardMetrics: Sendable {
    /// Records acknowledged (durable).
    let appendedRecords: Counter
    /// Time from an append's call to its acknowledgement.
    let ackLatency: Metrics.Timer
    /// Records handed to tails.
    let tailedRecords: Counter
    /// Tails running on the shard.
    let tails: Gauge

    init(shard: String, factory: any MetricsFactory) {
        let dimensions = [("shard", shard)]
        appendedRecords = Counter(label: "tributary_journal_appended_records_total", dimensions: dimensions, factory: factory)
        ackLatency = Metrics.Timer(label: "tributary_journal_append_ack_seconds", dimensions: dimensions, factory: factory)
        tailedRecords = Counter(label: "tributary_journal_tailed_records_total", dimensions: dimensions, factory: factory)
        tails = Gauge(label: "tributary_journal_tails", dimensions: dimensions, factory: factory)
    }
}
