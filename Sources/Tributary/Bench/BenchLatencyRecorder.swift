import Histogram
import NIOCore
import Synchronization

/// Collects call latencies (microseconds, hdrhistogram) and counts, shared by benchmark lanes
/// running on several event loops.
final class BenchLatencyRecorder: Sendable {
    /// Latencies above this are clamped (60 s).
    static let highestTrackableMicros: UInt64 = 60_000_000

    private let histogram = Mutex(Histogram<UInt64>(
        highestTrackableValue: BenchLatencyRecorder.highestTrackableMicros,
        numberOfSignificantValueDigits: .three
    ))
    private let completedCalls = Atomic<Int>(0)
    private let failedCalls = Atomic<Int>(0)
    private let issuedCalls = Atomic<Int>(0)
    private let stopAt: NIODeadline?
    private let maxCalls: Int?

    /// Runs until `stopAt` or until `maxCalls` calls were issued, whichever is set.
    init(stopAt: NIODeadline?, maxCalls: Int?) {
        self.stopAt = stopAt
        self.maxCalls = maxCalls
    }

    /// Claims the right to issue one more call; false once the run is over.
    func shouldIssue() -> Bool {
        if let maxCalls {
            return self.issuedCalls.add(1, ordering: .relaxed).newValue <= maxCalls
        }
        if let stopAt {
            return NIODeadline.now() < stopAt
        }
        return false
    }

    /// Records one successful call that started at `start`.
    func recordSuccess(since start: NIODeadline) {
        let nanos = max(0, (NIODeadline.now() - start).nanoseconds)
        let micros = min(UInt64((nanos + 999) / 1000), Self.highestTrackableMicros)
        self.histogram.withLock { _ = $0.record(micros) }
        self.completedCalls.add(1, ordering: .relaxed)
    }

    /// Records one failed call.
    func recordFailure() {
        self.failedCalls.add(1, ordering: .relaxed)
    }

    var completed: Int { self.completedCalls.load(ordering: .relaxed) }
    var failed: Int { self.failedCalls.load(ordering: .relaxed) }

    /// A copy of the latency histogram.
    var snapshot: Histogram<UInt64> { self.histogram.withLock { $0 } }
}
