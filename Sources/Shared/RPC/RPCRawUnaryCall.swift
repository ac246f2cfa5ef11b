import NIOCore

/// An untyped unary call in flight: its response future and a way to cancel it.
public struct RPCRawUnaryCall: Sendable {
    /// Something that can abandon a call (lets a transport hand over its per-call object instead
    /// of allocating a closure per call).
    protocol Canceller: AnyObject, Sendable {
        func cancel(_ reason: RPCError)
    }

    private enum Cancel: Sendable {
        case action(@Sendable (RPCError) -> Void)
        case object(any Canceller)
    }

    /// Completes with the response body, or fails with an ``RPCError``.
    public let response: EventLoopFuture<ByteBuffer>
    private let cancelAction: Cancel

    /// Creates a call handle.
    public init(response: EventLoopFuture<ByteBuffer>, cancel: @escaping @Sendable (RPCError) -> Void) {
        self.response = response
        self.cancelAction = .action(cancel)
    }

    /// Creates a call handle cancelled through `canceller`.
    init(response: EventLoopFuture<ByteBuffer>, canceller: any Canceller) {
        self.response = response
        self.cancelAction = .object(canceller)
    }

    /// Abandons the call: the response fails with `cancelled` and the server is told to stop.
    public func cancel() {
        let reason = RPCError(.cancelled, "call cancelled by caller")
        switch self.cancelAction {
        case .action(let action): action(reason)
        case .object(let canceller): canceller.cancel(reason)
        }
    }
}
