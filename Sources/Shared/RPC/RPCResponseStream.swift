import NIOCore

/// A typed server stream: an `AsyncSequence` of `Item`s.
///
/// Consuming items grants credit back to the server (flow control); cancelling the consuming task,
/// calling ``cancel()`` or dropping the stream before its end sends `cancel` to the server. Errors
/// are thrown as ``RPCError``.
public struct RPCResponseStream<Item: RPCMessage>: AsyncSequence, Sendable {
    public typealias Element = Item
    public typealias Failure = any Error

    /// The untyped stream underneath.
    public let raw: RPCRawResponseStream

    /// Wraps an untyped stream.
    public init(raw: RPCRawResponseStream) {
        self.raw = raw
    }

    /// Abandons the stream, telling the server to stop.
    public func cancel() {
        self.raw.cancel()
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let raw: RPCRawResponseStream

        public mutating func next() async throws -> Item? {
            guard let body = try await self.raw.next() else { return nil }
            do throws(RPCError) {
                return try Item.decode(rpcBody: body, what: "stream item")
            } catch {
                let failure = RPCError(.internal, "malformed stream item from server: \(error.message)")
                self.raw.receiver.cancel(failure)
                throw failure
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(raw: self.raw)
    }
}
