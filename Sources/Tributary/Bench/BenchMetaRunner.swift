/// A connected load target of `tributary bench meta` (a meta cluster or an etcd cluster).
protocol BenchMetaRunner: Sendable, CustomStringConvertible {
    /// The target's name in the summary (`tributary`, `etcd`).
    var name: String { get }

    /// Keeps `concurrency` writes in flight until `recorder` says the run is over, recording
    /// each write's latency (or its failure); returns once every in-flight write has completed.
    func run(concurrency: Int, recorder: BenchLatencyRecorder) async throws

    /// Closes the connections.
    func close() async
}
