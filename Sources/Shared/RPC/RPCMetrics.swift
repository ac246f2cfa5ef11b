import Atomics
import Metrics
import NIOConcurrencyHelpers
import NIOCore

/// The RPC layer's metrics, created once per server or client and cached per method/outcome so
/// no metric object is created per message.
///
/// - `tributary_rpc_calls_total{role, method, outcome}` — calls by method and outcome
///   (`ok` or an ``RPCError/Code`` name)
/// - `tributary_rpc_call_duration{role, method}` — latency timer
/// - `tributary_rpc_connections{role}` — open connections (gauge)
/// - `tributary_rpc_frames_rejected_total{role}` — frames that failed to decode
final class RPCMetrics: Sendable {
    let role: String
    private let calls = NIOLockedValueBox([String: Counter]())
    private let timers = NIOLockedValueBox([String: Metrics.Timer]())
    private let connectionCount = ManagedAtomic<Int>(0)
    private let connectionsGauge: Gauge
    private let framesRejected: Counter

    init(role: String) {
        self.role = role
        self.connectionsGauge = Gauge(label: "tributary_rpc_connections", dimensions: [("role", role)])
        self.framesRejected = Counter(label: "tributary_rpc_frames_rejected_total", dimensions: [("role", role)])
    }

    /// Records the outcome and latency of one call.
    func record(method: String, error: RPCError?, since start: NIODeadline) {
        let outcome = error.map { $0.code.description } ?? "ok"
        let key = method + "|" + outcome
        let role = self.role
        let counter = self.calls.withLockedValue { cache in
            if let counter = cache[key] { return counter }
            let counter = Counter(
                label: "tributary_rpc_calls_total",
                dimensions: [("role", role), ("method", method), ("outcome", outcome)]
            )
            cache[key] = counter
            return counter
        }
        counter.increment()
        let timer = self.timers.withLockedValue { cache in
            if let timer = cache[method] { return timer }
            let timer = Metrics.Timer(label: "tributary_rpc_call_duration", dimensions: [("role", role), ("method", method)])
            cache[method] = timer
            return timer
        }
        timer.recordNanoseconds((NIODeadline.now() - start).nanoseconds)
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
