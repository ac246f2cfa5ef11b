import NIOCore

/// Handed to a server-streaming handler to send items to the caller.
///
/// Writes respect the caller's credit window: when it is exhausted, ``write(_:)`` suspends (and
/// ``send(_:)``'s future stays pending) until the caller consumes items and grants more credit.
/// Writes fail with the cancellation reason once the call is cancelled.
public struct RPCStreamWriter<Item: RPCMessage>: Sendable {
    let sink: RPCStreamSink
    let cancellation: RPCCancellation

    /// Sends one item; the future completes when the item was handed to the transport.
    public func send(_ item: Item) -> EventLoopFuture<Void> {
        var buffer = ByteBuffer()
        item.encode(into: &buffer)
        return self.sink.write(buffer)
    }

    /// Sends one item, suspending while the caller's credit window is exhausted.
    public func write(_ item: Item) async throws {
        try await self.send(item).get()
    }

    /// Whether the caller went away (cancel, deadline, disconnect).
    public var isCancelled: Bool { self.cancellation.isCancelled }
}
