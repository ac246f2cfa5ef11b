import Histogram

/// The figures `tributary bench journal` prints at the end, as text or one JSON object.
struct BenchJournalSummary {
    let command: BenchJournalCommand
    let recorder: BenchLatencyRecorder
    let elapsed: Double
    /// Records the shards held after the run (read back from the node).
    let storedRecords: Int64

    func render(json: Bool) -> String {
        let histogram = self.recorder.snapshot
        let appends = self.recorder.completed
        let records = appends * self.command.batch
        let seconds = max(self.elapsed, 1e-9)
        let appendRate = Double(appends) / seconds
        let recordRate = Double(records) / seconds
        let megabytes = Double(records * self.command.recordSize) / seconds / 1e6
        let p50 = histogram.valueAtPercentile(50)
        let p90 = histogram.valueAtPercentile(90)
        let p99 = histogram.valueAtPercentile(99)
        let p999 = histogram.valueAtPercentile(99.9)
        let max = histogram.max
        let format = BenchLatencyRecorder.format
        if json {
            return "{\"scenario\":\"journal\",\"durability\":\"\(self.command.durability)\",\"recordBytes\":\(self.command.recordSize),"
                + "\"batch\":\(self.command.batch),\"concurrency\":\(self.command.concurrency),\"shards\":\(self.command.shards),"
                + "\"appends\":\(appends),\"records\":\(records),\"storedRecords\":\(self.storedRecords),\"errors\":\(self.recorder.failed),"
                + "\"seconds\":\(format(self.elapsed)),\"appendsPerSecond\":\(format(appendRate)),"
                + "\"recordsPerSecond\":\(format(recordRate)),\"MBPerSecond\":\(format(megabytes)),"
                + "\"p50Micros\":\(p50),\"p90Micros\":\(p90),\"p99Micros\":\(p99),\"p999Micros\":\(p999),\"maxMicros\":\(max)}"
        }
        return """
            \(appends) appends = \(records) records of \(self.command.recordSize) B (\(self.recorder.failed) errors) in \(format(self.elapsed)) s, \
            concurrency \(self.command.concurrency), \(self.command.shards) shard(s), durability \(self.command.durability); \
            \(self.storedRecords) records stored
            throughput: \(format(appendRate)) appends/s, \(format(recordRate)) records/s, \(format(megabytes)) MB/s
            latency µs: p50 \(p50)  p90 \(p90)  p99 \(p99)  p999 \(p999)  max \(max)
            """
    }
}
