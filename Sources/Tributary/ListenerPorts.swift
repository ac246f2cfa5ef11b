import Synchronization

/// The ports this process's listeners were bound to, once the ``StartupReport`` has them all;
/// awaited by services that advertise an address (a node's registration in meta) when a port
/// was configured as 0.
final class ListenerPorts: Sendable {
    private struct State {
        var ports: [String: Int]?
        var waiters: [Int: CheckedContinuation<[String: Int]?, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    /// Records the bound ports (once) and wakes the waiters.
    func set(_ bound: [String: Int]) {
        let waiters = state.withLock { state -> [CheckedContinuation<[String: Int]?, Never>] in
            guard state.ports == nil else { return [] }
            state.ports = bound
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: bound) }
    }

    /// The port `listener` is bound to, waiting until every listener is bound; nil when the
    /// listener is unknown or the calling task is cancelled first.
    func port(_ listener: String) async -> Int? {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        let ports: [String: Int]? = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let known: [String: Int]?? = state.withLock { state in
                    if let ports = state.ports { return .some(ports) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[id] = continuation
                    return .none
                }
                if let known { continuation.resume(returning: known) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: nil)
        }
        return ports?[listener]
    }
}
