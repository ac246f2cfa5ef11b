import Logging
import NIOCore

/// What a handler knows about the call it serves: deadline, cancellation, peer, logger and the
/// event loop it runs on (return futures from this loop to stay on the hot path).
public struct RPCCallContext: Sendable {
    /// The method's name, e.g. `node.ping`.
    public let methodName: String
    /// When the caller stops waiting, if it set a timeout.
    public let deadline: NIODeadline?
    /// The remote address (nil for the in-process transport).
    public let peer: SocketAddress?
    /// A logger with the call's metadata (method, call id) attached. Built on access, so calls
    /// that never log pay nothing for it.
    public var logger: Logger {
        var logger = self.baseLogger
        logger[metadataKey: "rpc.method"] = .string(self.methodName)
        if let callID = self.callID {
            logger[metadataKey: "rpc.call"] = .stringConvertible(callID)
        }
        return logger
    }
    private let baseLogger: Logger
    private let callID: UInt64?
    /// The event loop of the connection (or in-process call).
    public let eventLoop: any EventLoop
    /// The call's cancellation token.
    public let cancellation: RPCCancellation

    /// Creates a context (transports do this; tests may too).
    public init(
        methodName: String,
        deadline: NIODeadline?,
        peer: SocketAddress?,
        logger: Logger,
        eventLoop: any EventLoop,
        cancellation: RPCCancellation = RPCCancellation(),
        callID: UInt64? = nil
    ) {
        self.methodName = methodName
        self.deadline = deadline
        self.peer = peer
        self.baseLogger = logger
        self.callID = callID
        self.eventLoop = eventLoop
        self.cancellation = cancellation
    }

    /// Whether the caller cancelled, the deadline passed or the connection dropped.
    public var isCancelled: Bool { self.cancellation.isCancelled }

    /// Runs `callback` when the call is cancelled (immediately if it already is).
    public func onCancel(_ callback: @escaping @Sendable (RPCError) -> Void) {
        self.cancellation.onCancel(callback)
    }

    /// Throws the cancellation reason if the call has been cancelled.
    public func checkCancellation() throws(RPCError) {
        if let reason = self.cancellation.reason {
            throw reason
        }
    }
}
