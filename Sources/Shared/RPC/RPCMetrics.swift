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
    /// The metric objects of one method, created on its first call.
    private final class MethodMetrics: Sendable {
        let ok: Counter
        let failures: [RPCError.Code: Counter]
        let duration: Metrics.Timer

        init(role: String, method: String) {
            func counter(_ outcome: String) -> Counter {
                Counter(label: "tributary_rpc_calls_total", dimensions: [("role", role), ("method", method), ("outcome", outcome)])
            }
            self.ok = counter("ok")
            var failures: [RPCError.Code: Counter] = [:]
            for code in RPCError.Code.allCases {
                failures[code] = counter(code.description)
            }
            self.failures = failures
            self.duration = Metrics.Timer(label: "tributary_rpc_call_duration", dimensions: [("role", role), ("method", method)])
        }
    }

    let role: String
    private let methods = NIOLockedValueBox([String: MethodMetrics]())
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
        let role = self.role
        let metrics = self.methods.withLockedValue { cache in
            if let metrics = cache[method] { return metrics }
            let metrics = MethodMetrics(role: role, method: method)
            cache[method] = metrics
            return metrics
        }
        if let error {
            metrics.failures[error.code]?.increment()
        } else {
            metrics.ok.increment()
        }
        metrics.duration.recordNanoseconds((NIODeadline.now() - start).nanoseconds)
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
