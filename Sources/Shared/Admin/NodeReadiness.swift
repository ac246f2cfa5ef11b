import Synchronization

/// Which parts of a node are up. `/health/ready` answers 200 only when every registered
/// component has reported ready, so a load balancer or Kubernetes sends no traffic before then
/// and stops sending it when a component goes down.
public final class NodeReadiness: Sendable {
    private let state = Mutex<[String: Bool]>([:])

    /// Creates an empty readiness set (ready, vacuously, until components register).
    public init() {}

    /// Declares a component that must become ready; it starts not ready.
    public func register(_ component: String) {
        state.withLock { $0[component] = $0[component] ?? false }
    }

    /// Marks a component ready or not ready.
    public func set(_ component: String, ready: Bool) {
        state.withLock { $0[component] = ready }
    }

    /// Whether every registered component is ready.
    public var isReady: Bool {
        state.withLock { $0.values.allSatisfy { $0 } }
    }

    /// The components not ready yet, sorted.
    public var pending: [String] {
        state.withLock { $0.filter { !$0.value }.map(\.key).sorted() }
    }
}
