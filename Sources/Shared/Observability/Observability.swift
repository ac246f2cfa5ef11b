import Logging
import Metrics
import Prometheus

/// Process-wide logging and metrics set-up. Executables call ``bootstrap(log:)`` once, first
/// thing; libraries only take a `Logger` and create their metrics through swift-metrics.
public enum Observability {
    /// The registry every metric of this process lands in; `/metrics` renders it.
    public static let registry = PrometheusCollectorRegistry()

    /// Bootstraps swift-log (text or JSON, at the configured level, to standard error) and
    /// swift-metrics (Prometheus). Safe to call once per process.
    public static func bootstrap(log: TributaryConfig.Log) {
        let level = log.level
        switch log.format {
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        case .json:
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }

    /// The Prometheus text exposition of every metric recorded so far.
    public static func renderMetrics() -> [UInt8] {
        registry.emitToBuffer()
    }
}
