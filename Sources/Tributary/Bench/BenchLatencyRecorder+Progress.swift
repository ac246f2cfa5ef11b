extension BenchLatencyRecorder {
    /// Prints `[Ns] <rate> <unit>/s, <total> total, <failures> <failureWord>` once a second until
    /// the task is cancelled (nothing when `quiet`, e.g. with `--json`).
    func reportProgress(unit: String, failureWord: String, quiet: Bool) async {
        var last = 0
        var second = 0
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .seconds(1))
            } catch {
                return
            }
            second += 1
            let completed = self.completed
            if !quiet {
                print("[\(second)s] \(completed - last) \(unit)/s, \(completed) total, \(self.failed) \(failureWord)")
            }
            last = completed
        }
    }

    /// A figure rounded to two decimals, for summaries and JSON.
    static func format(_ value: Double) -> String {
        "\((value * 100).rounded() / 100)"
    }
}
