import NIOCore

/// Serialises ``RPCFrame``s onto the wire (header then body).
public struct RPCFrameEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = RPCFrame

    /// Creates an encoder.
    public init() {}

    public func encode(data: RPCFrame, out: inout ByteBuffer) throws {
        data.encode(into: &out)
    }
}
