/// The kind of an RPC frame, carried in the fixed header's `kind` byte.
///
/// The set is closed: a byte outside these values is rejected by ``RPCFrameDecoder`` with
/// ``RPCFrameError/unknownKind(_:)``.
public enum RPCFrameKind: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Client → server: start a call (unary or server stream). Body: the encoded request.
    case request = 1
    /// Server → client: the successful result of a unary call. Body: the encoded response.
    case response = 2
    /// Server → client: one item of a server stream. Body: the encoded item.
    case streamItem = 3
    /// Server → client: a server stream finished successfully. Body: empty.
    case streamEnd = 4
    /// Client → server: abandon the call. Body: empty.
    case cancel = 5
    /// Either direction: the call failed. Body: an encoded ``RPCError``.
    case error = 6
    /// Client → server: grant more stream items. Body: UInt32 credit increment (items).
    case windowUpdate = 7
    /// Either direction: keep-alive probe. Body: opaque bytes echoed in the pong.
    case ping = 8
    /// Answer to a ping with the same correlation id and body.
    case pong = 9

    public var description: String {
        switch self {
        case .request: "request"
        case .response: "response"
        case .streamItem: "streamItem"
        case .streamEnd: "streamEnd"
        case .cancel: "cancel"
        case .error: "error"
        case .windowUpdate: "windowUpdate"
        case .ping: "ping"
        case .pong: "pong"
        }
    }
}
