import Synchronization

/// Collects the addresses a node's listeners actually bound (port 0 becomes a real port) and
/// calls `onComplete` once, when every expected listener has reported.
public final class StartupReport: Sendable {
    private struct State {
        var bound: [String: Int] = [:]
        var announced = false
    }

    private let expected: Set<String>
    private let state = Mutex(State())
    private let onComplete: @Sendable ([String: Int]) -> Void

    /// Creates a report waiting for `expected` listener names.
    public init(expecting expected: Set<String>, onComplete: @escaping @Sendable ([String: Int]) -> Void) {
        self.expected = expected
        self.onComplete = onComplete
    }

    /// Records that `listener` is bound to `port`.
    public func bound(_ listener: String, port: Int) {
        let complete: [String: Int]? = state.withLock { state in
            state.bound[listener] = port
            guard !state.announced, expected.isSubset(of: Set(state.bound.keys)) else { return nil }
            state.announced = true
            return state.bound
        }
        if let complete {
            onComplete(complete)
        }
    }
}
