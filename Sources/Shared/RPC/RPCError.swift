import NIOCore

/// The typed error every RPC caller catches: a closed ``Code``, a human-readable message, and
/// optional machine-readable detail bytes (for ``Code/notLeader`` the leader's address).
///
/// Wire form (the body of an `error` frame): code UInt16 big-endian, message as a
/// varint-length-prefixed UTF-8 string, detail as varint-length-prefixed bytes (length 0 = none).
public struct RPCError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong, as a closed set every service shares.
    public enum Code: UInt16, Sendable, CaseIterable, CustomStringConvertible {
        /// The server has no handler for the method id.
        case unknownMethod = 1
        /// The call's deadline passed before it completed.
        case deadlineExceeded = 2
        /// The call was cancelled by the caller.
        case cancelled = 3
        /// The peer could not be reached or the connection dropped.
        case unavailable = 4
        /// The request was malformed or semantically invalid.
        case invalidArgument = 5
        /// A limit (memory, quota, frame size) was hit.
        case resourceExhausted = 6
        /// This node is not the leader; detail carries the leader's address if known.
        case notLeader = 7
        /// The system is not in a state where the request can be served.
        case failedPrecondition = 8
        /// The named entity does not exist.
        case notFound = 9
        /// The entity to create exists already.
        case alreadyExists = 10
        /// The caller did not prove who it is.
        case unauthenticated = 11
        /// The caller is not allowed to do this.
        case permissionDenied = 12
        /// A bug or unexpected failure on the server.
        case `internal` = 13
        /// A service-specific failure; the message (and detail) say more.
        case application = 14

        public var description: String {
            switch self {
            case .unknownMethod: "unknownMethod"
            case .deadlineExceeded: "deadlineExceeded"
            case .cancelled: "cancelled"
            case .unavailable: "unavailable"
            case .invalidArgument: "invalidArgument"
            case .resourceExhausted: "resourceExhausted"
            case .notLeader: "notLeader"
            case .failedPrecondition: "failedPrecondition"
            case .notFound: "notFound"
            case .alreadyExists: "alreadyExists"
            case .unauthenticated: "unauthenticated"
            case .permissionDenied: "permissionDenied"
            case .internal: "internal"
            case .application: "application"
            }
        }
    }

    /// The longest message accepted when decoding (64 KiB).
    public static let maxMessageBytes = 64 << 10

    /// The error class.
    public var code: Code
    /// Human-readable explanation.
    public var message: String
    /// Optional machine-readable detail (empty when absent).
    public var detail: ByteBuffer?

    /// Creates an error.
    public init(_ code: Code, _ message: String = "", detail: ByteBuffer? = nil) {
        self.code = code
        self.message = message
        self.detail = detail
    }

    public var description: String {
        message.isEmpty ? "RPCError(\(code))" : "RPCError(\(code)): \(message)"
    }

    /// Appends the wire form to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(self.code.rawValue)
        buffer.writeLengthPrefixed(string: self.message)
        buffer.writeLengthPrefixed(bytes: self.detail ?? ByteBuffer())
    }

    /// Decodes the wire form.
    public init(rpcBody buffer: inout ByteBuffer) throws(WireDecodingError) {
        let raw = try buffer.readFixed("error code", as: UInt16.self)
        guard let code = Code(rawValue: raw) else {
            throw .unknownTag(what: "error code", tag: UInt64(raw))
        }
        let message = try buffer.readLengthPrefixedString("error message", limit: Self.maxMessageBytes)
        let detail = try buffer.readLengthPrefixedSlice("error detail", limit: RPCFrame.defaultMaxFrameBytes)
        self.init(code, message, detail: detail.readableBytes == 0 ? nil : detail)
    }

    /// Maps any error thrown by a handler to an `RPCError` (non-RPC errors become `internal`).
    static func from(_ error: any Error) -> RPCError {
        if let rpc = error as? RPCError {
            return rpc
        }
        if error is CancellationError {
            return RPCError(.cancelled, "handler task was cancelled")
        }
        return RPCError(.internal, String(describing: error))
    }
}
