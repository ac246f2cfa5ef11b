import Synchronization

/// The cancellation state of one call, shared by the transport and the handler.
///
/// The transport cancels it when the caller sends `cancel`, the deadline passes, or the
/// connection drops; handlers poll ``isCancelled`` or register ``onCancel(_:)`` callbacks.
public final class RPCCancellation: Sendable {
    private struct State {
        var reason: RPCError?
        var callbacks: [@Sendable (RPCError) -> Void] = []
    }

    // A `Mutex` stored inline: one allocation per token (every call's context has one).
    private let state = Mutex(State())

    /// A fresh, not-yet-cancelled token.
    public init() {}

    /// Whether the call has been cancelled (for any reason).
    public var isCancelled: Bool { self.state.withLock { $0.reason != nil } }

    /// Why the call was cancelled, or nil while it is live.
    public var reason: RPCError? { self.state.withLock { $0.reason } }

    /// Runs `callback` once when the call is cancelled (immediately if it already is).
    public func onCancel(_ callback: @escaping @Sendable (RPCError) -> Void) {
        let reason: RPCError? = self.state.withLock { state in
            if let reason = state.reason {
                return reason
            }
            state.callbacks.append(callback)
            return nil
        }
        if let reason {
            callback(reason)
        }
    }

    /// Cancels the call; only the first reason counts. Returns whether this call cancelled it.
    @discardableResult
    public func cancel(_ reason: RPCError) -> Bool {
        let callbacks: [@Sendable (RPCError) -> Void]? = self.state.withLock { state in
            guard state.reason == nil else { return nil }
            state.reason = reason
            defer { state.callbacks = [] }
            return state.callbacks
        }
        guard let callbacks else { return false }
        for callback in callbacks {
            callback(reason)
        }
        return true
    }
}
