import NIOCore

/// The request and response of `node.ping`: opaque bytes, echoed.
///
/// Wire form: the payload bytes, varint-length-prefixed.
public struct NodePing: RPCMessage, Equatable {
    /// The bytes to echo.
    public var payload: ByteBuffer

    /// Creates a ping carrying `payload`.
    public init(payload: ByteBuffer = ByteBuffer()) {
        self.payload = payload
    }

    public init(rpcBody buffer: inout ByteBuffer) throws {
        self.payload = try buffer.readLengthPrefixedSlice("ping payload", limit: RPCFrame.defaultMaxFrameBytes)
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeLengthPrefixed(bytes: self.payload)
    }
}
