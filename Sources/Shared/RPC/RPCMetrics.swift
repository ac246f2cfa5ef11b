import Atomics
import Metrics
import NIOConcurrencyHelpers
import NIOCore

/// The RPC layer's metrics, created once per server or client and cached per method so no
/// metric object is created per message.
///
/// - `tributary_rpc_calls_total{role, method, outcome}` — calls by method and outcome
///   (`ok` or an ``RPCError/Code`` name); every call is counted.
/// - `tributary_rpc_call_duration{role, method}` — latency timer, sampled: one call in
///   ``latencySampleInterval`` per connection (the first one included) is timed, plus every
///   failed call of a future-based or stream handler and every failed client call. Reading the
///   clock and updating a histogram for every small call cost more than the rest of the call's
///   bookkeeping, and a 1-in-16 sample describes the distribution just as well.
/// - `tributary_rpc_connections{role}` — open connections (gauge)
/// - `tributary_rpc_frames_rejected_total{role}` — frames that failed to decode
final class RPCMetrics: Sendable {
    /// One successful call in this many is timed (per connection or client slot).
    static let latencySampleInterval = 16

    /// The metric objects of one method, created on its first call. Hot paths look it up once
    /// and keep it (per connection), so recording is a counter increment.
    final class Method: Sendable {
        let name: String
        private let ok: Counter
        private let failures: [Counter?]
        private let duration: Metrics.Timer

        init(role: String, method: String) {
            func counter(_ outcome: String) -> Counter {
                Counter(label: "tributary_rpc_calls_total", dimensions: [("role", role), ("method", method), ("outcome", outcome)])
            }
            self.name = method
            self.ok = counter("ok")
            // Indexed by the code's raw value (codes are 1...n, dense).
            let highest = Int(RPCError.Code.allCases.map(\.rawValue).max() ?? 0)
            var failures: [Counter?] = Array(repeating: nil, count: highest + 1)
            for code in RPCError.Code.allCases {
                failures[Int(code.rawValue)] = counter(code.description)
            }
            self.failures = failures
            self.duration = Metrics.Timer(label: "tributary_rpc_call_duration", dimensions: [("role", role), ("method", method)])
        }

        /// Counts one successful call.
        @inline(__always)
        func recordSuccess() {
            self.ok.increment()
        }

        /// Counts one failed call and records its duration (when its start time is known).
        func recordFailure(_ error: RPCError, since start: NIODeadline?) {
            let index = Int(error.code.rawValue)
            if index < self.failures.count {
                self.failures[index]?.increment()
            }
            if let start {
                self.recordDuration(since: start)
            }
        }

        /// Records one (sampled) call duration.
        func recordDuration(since start: NIODeadline) {
            self.duration.recordNanoseconds(max(0, (NIODeadline.now() - start).nanoseconds))
        }
    }

    let role: String
    private let methods = NIOLockedValueBox([String: Method]())
    private let connectionCount = ManagedAtomic<Int>(0)
    private let connectionsGauge: Gauge
    private let framesRejected: Counter

    init(role: String) {
        self.role = role
        self.connectionsGauge = Gauge(label: "tributary_rpc_connections", dimensions: [("role", role)])
        self.framesRejected = Counter(label: "tributary_rpc_frames_rejected_total", dimensions: [("role", role)])
    }

    /// The metrics of `method` (created on first use).
    func method(_ method: String) -> Method {
        let role = self.role
        return self.methods.withLockedValue { cache in
            if let metrics = cache[method] { return metrics }
            let metrics = Method(role: role, method: method)
            cache[method] = metrics
            return metrics
        }
    }

    /// Records the outcome and latency of one call (off the hot path: streams, errors, the
    /// in-process transport).
    func record(method: String, error: RPCError?, since start: NIODeadline) {
        let metrics = self.method(method)
        if let error {
            metrics.recordFailure(error, since: start)
        } else {
            metrics.recordSuccess()
            metrics.recordDuration(since: start)
        }
    }

    /// Counts one malformed frame or protocol violation.
    func frameRejected() {
        self.framesRejected.increment()
    }

    func connectionOpened() {
        self.connectionsGauge.record(self.connectionCount.wrappingIncrementThenLoad(ordering: .relaxed))
    }

    func connectionClosed() {
        self.connectionsGauge.record(self.connectionCount.wrappingDecrementThenLoad(ordering: .relaxed))
    }
}
