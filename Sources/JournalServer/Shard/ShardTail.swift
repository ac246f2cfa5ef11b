import NIOCore

/// A running tail on a shard (see ``ShardStore/subscribe(shard:from:filter:handler:)``).
public final class ShardTail: Sendable {
    /// Receives matching durable records on the shard's event loop; the tail delivers nothing
    /// more until the returned future completes (a failed future ends the tail with its error).
    public typealias Handler = @Sendable (ShardTailBatch) -> EventLoopFuture<Void>

    /// The shard's name.
    public let shard: String
    /// Succeeds when the tail is cancelled; fails when it ends for another reason (the shard
    /// was deleted or its log failed, the handler failed, the store closed).
    public let completion: EventLoopFuture<Void>
    private let cancelAction: @Sendable () -> Void

    init(shard: String, completion: EventLoopFuture<Void>, cancel: @escaping @Sendable () -> Void) {
        self.shard = shard
        self.completion = completion
        self.cancelAction = cancel
    }

    /// Stops the tail; no handler call starts after the cancel reached the shard's loop.
    public func cancel() {
        cancelAction()
    }
}
