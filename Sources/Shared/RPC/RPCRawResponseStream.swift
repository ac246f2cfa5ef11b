import NIOCore

/// An untyped server stream as returned by ``RPCTransport/serverStream(methodID:methodName:request:options:)``:
/// an `AsyncSequence` of item bodies.
///
/// Consuming items grants credit back to the server. Dropping the last reference to the stream
/// and its iterators (or cancelling the consuming task, or calling ``cancel()``) before the end
/// sends `cancel` to the server.
public final class RPCRawResponseStream: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    public typealias Failure = any Error

    let receiver: RPCStreamReceiver

    init(receiver: RPCStreamReceiver) {
        self.receiver = receiver
    }

    /// A stream that has already failed with `error`.
    static func failed(_ error: RPCError) -> RPCRawResponseStream {
        let receiver = RPCStreamReceiver(window: 1)
        receiver.finish(error)
        return RPCRawResponseStream(receiver: receiver)
    }

    deinit {
        self.receiver.cancel()
    }

    /// Abandons the stream, telling the server to stop.
    public func cancel() {
        self.receiver.cancel()
    }

    /// The next item body, nil at the end of the stream.
    public func next() async throws -> ByteBuffer? {
        try await self.receiver.next()
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let stream: RPCRawResponseStream

        public mutating func next() async throws -> ByteBuffer? {
            try await self.stream.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(stream: self)
    }
}
