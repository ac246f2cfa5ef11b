import NIOCore

/// An untyped unary call in flight: its response future and a way to cancel it.
public struct RPCRawUnaryCall: Sendable {
    /// Completes with the response body, or fails with an ``RPCError``.
    public let response: EventLoopFuture<ByteBuffer>
    private let cancelAction: @Sendable (RPCError) -> Void

    /// Creates a call handle.
    public init(response: EventLoopFuture<ByteBuffer>, cancel: @escaping @Sendable (RPCError) -> Void) {
        self.response = response
        self.cancelAction = cancel
    }

    /// Abandons the call: the response fails with `cancelled` and the server is told to stop.
    public func cancel() {
        self.cancelAction(RPCError(.cancelled, "call cancelled by caller"))
    }
}
