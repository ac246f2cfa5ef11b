/// Why a byte stream could not be decoded into ``RPCFrame``s. Any of these closes the connection.
public enum RPCFrameError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The first two bytes were not 0x5442 ("TB").
    case badMagic(UInt16)
    /// The version byte is not one this build speaks.
    case unsupportedVersion(UInt8)
    /// The kind byte is not an ``RPCFrameKind``.
    case unknownKind(UInt8)
    /// The header declares a body larger than the configured limit.
    case frameTooLarge(declared: UInt32, limit: Int)
    /// A frame body is malformed for its kind (e.g. a windowUpdate without a 4-byte credit).
    case malformedBody(kind: RPCFrameKind, reason: String)
    /// The connection closed in the middle of a frame.
    case truncatedFrame(bufferedBytes: Int)

    public var description: String {
        switch self {
        case .badMagic(let magic): "bad frame magic 0x\(String(magic, radix: 16))"
        case .unsupportedVersion(let version): "unsupported RPC version \(version)"
        case .unknownKind(let kind): "unknown frame kind \(kind)"
        case .frameTooLarge(let declared, let limit): "frame body of \(declared) bytes exceeds the limit of \(limit)"
        case .malformedBody(let kind, let reason): "malformed \(kind) frame: \(reason)"
        case .truncatedFrame(let bytes): "connection closed with \(bytes) bytes of an incomplete frame"
        }
    }
}
