import NIOConcurrencyHelpers
import NIOCore

/// Completes a promise at most once, whichever of response, deadline or cancellation comes first.
final class RPCPromiseOnce<Value: Sendable>: Sendable {
    private let promise: EventLoopPromise<Value>
    private let done = NIOLockedValueBox(false)

    init(_ promise: EventLoopPromise<Value>) {
        self.promise = promise
    }

    var futureResult: EventLoopFuture<Value> { self.promise.futureResult }

    /// Whether the promise has been completed.
    var isCompleted: Bool { self.done.withLockedValue { $0 } }

    /// Completes the promise unless it already was; returns whether this call completed it.
    @discardableResult
    func complete(_ result: Result<Value, RPCError>) -> Bool {
        let first = self.done.withLockedValue { done in
            defer { done = true }
            return !done
        }
        guard first else { return false }
        switch result {
        case .success(let value): self.promise.succeed(value)
        case .failure(let error): self.promise.fail(error)
        }
        return true
    }
}
