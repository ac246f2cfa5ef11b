import DequeModule
import NIOConcurrencyHelpers
import NIOCore

/// The receiving side of a server stream, shared by the socket client and the in-process
/// transport: buffers delivered items for one consumer and grants credit back as they are
/// consumed, so at most `window` items are ever sent but unconsumed.
final class RPCStreamReceiver: Sendable {
    /// How the receiver talks back to the sender (set once the call is bound to a transport).
    struct Control: Sendable {
        var grant: @Sendable (Int) -> Void
        var cancel: @Sendable (RPCError) -> Void
    }

    private struct State {
        var buffer = Deque<ByteBuffer>()
        var terminal: Result<Void, RPCError>?
        var waiter: CheckedContinuation<ByteBuffer?, any Error>?
        var consumedSinceGrant = 0
        var control: Control?
        var onTerminate: [@Sendable () -> Void] = []
    }

    /// The initial credit window (items).
    let window: Int
    private let state = NIOLockedValueBox(State())

    init(window: Int) {
        self.window = max(1, window)
    }

    /// Connects the receiver to its sender.
    func bind(_ control: Control) {
        self.state.withLockedValue { $0.control = control }
    }

    /// Runs `callback` when the stream ends for any reason (immediately if it has).
    func whenTerminated(_ callback: @escaping @Sendable () -> Void) {
        let done = self.state.withLockedValue { state in
            if state.terminal != nil { return true }
            state.onTerminate.append(callback)
            return false
        }
        if done { callback() }
    }

    /// The error the stream ended with (nil while live or after a successful end).
    var terminalError: RPCError? {
        self.state.withLockedValue { state in
            if case .failure(let error)? = state.terminal { return error }
            return nil
        }
    }

    /// Whether the stream ended.
    var isTerminated: Bool { self.state.withLockedValue { $0.terminal != nil } }

    /// The sender delivers one item.
    func deliver(_ item: ByteBuffer) {
        let (waiter, grant) = self.state.withLockedValue { state -> (CheckedContinuation<ByteBuffer?, any Error>?, (@Sendable (Int) -> Void, Int)?) in
            guard state.terminal == nil else { return (nil, nil) }
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, Self.consumed(&state, window: self.window))
            }
            state.buffer.append(item)
            return (nil, nil)
        }
        waiter?.resume(returning: item)
        if let (grant, credit) = grant { grant(credit) }
    }

    /// The stream ended: successfully (nil) or with an error. Items already buffered are still
    /// delivered before a successful end; an error is reported at once.
    @discardableResult
    func finish(_ error: RPCError?) -> Bool {
        let (ended, waiter, callbacks) = self.state.withLockedValue { state -> (Bool, CheckedContinuation<ByteBuffer?, any Error>?, [@Sendable () -> Void]) in
            guard state.terminal == nil else { return (false, nil, []) }
            if let error {
                state.terminal = .failure(error)
                state.buffer.removeAll()
            } else {
                state.terminal = .success(())
            }
            let waiter = state.waiter
            state.waiter = nil
            let callbacks = state.onTerminate
            state.onTerminate = []
            return (true, waiter, callbacks)
        }
        if let waiter {
            if let error { waiter.resume(throwing: error) } else { waiter.resume(returning: nil) }
        }
        for callback in callbacks { callback() }
        return ended
    }

    /// The consumer abandons the stream: ends it with `cancelled` and tells the sender.
    func cancel(_ reason: RPCError = RPCError(.cancelled, "stream cancelled by caller")) {
        let control = self.state.withLockedValue { $0.control }
        if self.finish(reason) {
            control?.cancel(reason)
        }
    }

    /// The next item, nil at the end; throws the stream's error.
    func next() async throws -> ByteBuffer? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ByteBuffer?, any Error>) in
                let (result, grant) = self.state.withLockedValue { state -> (Result<ByteBuffer?, any Error>?, (@Sendable (Int) -> Void, Int)?) in
                    if let item = state.buffer.popFirst() {
                        return (.success(item), Self.consumed(&state, window: self.window))
                    }
                    switch state.terminal {
                    case .success: return (.success(nil), nil)
                    case .failure(let error): return (.failure(error), nil)
                    case nil:
                        precondition(state.waiter == nil, "an RPC response stream supports one consumer at a time")
                        state.waiter = continuation
                        return (nil, nil)
                    }
                }
                if let result { continuation.resume(with: result) }
                if let (grant, credit) = grant { grant(credit) }
            }
        } onCancel: {
            self.cancel()
        }
    }

    /// Counts one consumed item; returns the credit to grant when half a window was consumed.
    private static func consumed(_ state: inout State, window: Int) -> (@Sendable (Int) -> Void, Int)? {
        state.consumedSinceGrant += 1
        guard state.consumedSinceGrant >= max(1, window / 2), let control = state.control else { return nil }
        let credit = state.consumedSinceGrant
        state.consumedSinceGrant = 0
        return (control.grant, credit)
    }
}
