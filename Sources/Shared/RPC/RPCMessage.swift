import NIOCore

/// A request, response or stream item: a value with a hand-written binary encoding built from
/// the `Shared/Wire` primitives (no Codable, no JSON).
public protocol RPCMessage: Sendable {
    /// Decodes the value from a frame body; throws on malformed input, never traps.
    init(rpcBody: inout ByteBuffer) throws
    /// Appends the binary form to `buffer`.
    func encode(into buffer: inout ByteBuffer)
}

extension RPCMessage {
    /// The binary form in a fresh buffer.
    @inlinable
    func encodedBody(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        self.encode(into: &buffer)
        return buffer
    }

    /// Decodes a value from `body`, mapping decoding failures to `invalidArgument`. `what` names
    /// the value in the error message; it is only built when decoding fails.
    @inlinable
    static func decode(rpcBody body: ByteBuffer, what: @autoclosure () -> String) throws(RPCError) -> Self {
        var body = body
        do {
            return try Self(rpcBody: &body)
        } catch {
            throw RPCError(.invalidArgument, "cannot decode \(what()): \(error)")
        }
    }
}

/// An empty message, for methods that take or return nothing.
public struct RPCEmpty: RPCMessage, Equatable {
    /// Creates the empty message.
    public init() {}
    public init(rpcBody: inout ByteBuffer) throws {}
    public func encode(into buffer: inout ByteBuffer) {}
}
