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
    /// Whether this is ``uncancellable``.
    private let inert: Bool

    /// A fresh, not-yet-cancelled token.
    public init() {
        self.inert = false
    }

    private init(inert: Bool) {
        self.inert = inert
    }

    /// The token of calls that finish before anything could cancel them (synchronous handlers
    /// answer while their request is being read): it is never cancelled, so `onCancel`
    /// callbacks are dropped at once instead of being kept, and ``cancel(_:)`` does nothing.
    /// Shared, so such calls allocate no token.
    static let uncancellable = RPCCancellation(inert: true)

    /// Whether the call has been cancelled (for any reason).
    public var isCancelled: Bool {
        if self.inert { return false }
        return self.state.withLock { $0.reason != nil }
    }

    /// Why the call was cancelled, or nil while it is live.
    public var reason: RPCError? {
        if self.inert { return nil }
        return self.state.withLock { $0.reason }
    }

    /// Runs `callback` once when the call is cancelled (immediately if it already is).
    public func onCancel(_ callback: @escaping @Sendable (RPCError) -> Void) {
        if self.inert { return }
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
        if self.inert { return false }
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
