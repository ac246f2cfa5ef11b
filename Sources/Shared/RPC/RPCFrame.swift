import NIOCore

/// One frame of the Tributary RPC protocol: a 26-byte big-endian fixed header and a body.
///
/// ```
/// offset size field
///  0     2    magic          0x5442 ("TB")
///  2     1    version        1
///  3     1    kind           RPCFrameKind
///  4     2    flags          reserved, 0
///  6     4    methodID       UInt32
/// 10     8    correlationID  UInt64, chosen by the client, unique per connection
/// 18     4    timeoutMillis  UInt32, relative deadline, 0 = none
/// 22     4    bodyLength     UInt32, bytes following the header
/// ```
public struct RPCFrame: Sendable, Equatable {
    /// The two magic bytes "TB".
    public static let magic: UInt16 = 0x5442
    /// The only protocol version spoken.
    public static let version: UInt8 = 1
    /// Size of the fixed header in bytes.
    public static let headerSize = 26
    /// The default maximum body size (16 MiB).
    public static let defaultMaxFrameBytes = 16 << 20

    /// What the frame means.
    public var kind: RPCFrameKind
    /// Reserved flag bits (0 today; carried so future versions can use them).
    public var flags: UInt16
    /// The method this frame belongs to (0 for ping/pong).
    public var methodID: UInt32
    /// Which call on the connection this frame belongs to.
    public var correlationID: UInt64
    /// Milliseconds the caller is willing to wait, relative to receipt; 0 means no deadline.
    public var timeoutMillis: UInt32
    /// The frame body.
    public var body: ByteBuffer

    /// Creates a frame.
    public init(
        kind: RPCFrameKind,
        flags: UInt16 = 0,
        methodID: UInt32 = 0,
        correlationID: UInt64,
        timeoutMillis: UInt32 = 0,
        body: ByteBuffer = ByteBuffer()
    ) {
        self.kind = kind
        self.flags = flags
        self.methodID = methodID
        self.correlationID = correlationID
        self.timeoutMillis = timeoutMillis
        self.body = body
    }

    /// Appends the header and body to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.reserveCapacity(minimumWritableBytes: Self.headerSize + self.body.readableBytes)
        Self.writeHeader(
            into: &buffer,
            kind: self.kind,
            flags: self.flags,
            methodID: self.methodID,
            correlationID: self.correlationID,
            timeoutMillis: self.timeoutMillis,
            bodyLength: UInt32(truncatingIfNeeded: self.body.readableBytes)
        )
        buffer.writeImmutableBuffer(self.body)
    }

    /// Appends a 26-byte header with one write into the buffer's memory (writing field by field
    /// cost a bounds and exclusivity check per field).
    static func writeHeader(
        into buffer: inout ByteBuffer,
        kind: RPCFrameKind,
        flags: UInt16 = 0,
        methodID: UInt32,
        correlationID: UInt64,
        timeoutMillis: UInt32 = 0,
        bodyLength: UInt32
    ) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.headerSize) { raw in
            raw.storeBytes(of: Self.magic.bigEndian, toByteOffset: 0, as: UInt16.self)
            raw.storeBytes(of: Self.version, toByteOffset: 2, as: UInt8.self)
            raw.storeBytes(of: kind.rawValue, toByteOffset: 3, as: UInt8.self)
            raw.storeBytes(of: flags.bigEndian, toByteOffset: 4, as: UInt16.self)
            raw.storeBytes(of: methodID.bigEndian, toByteOffset: 6, as: UInt32.self)
            raw.storeBytes(of: correlationID.bigEndian, toByteOffset: 10, as: UInt64.self)
            raw.storeBytes(of: timeoutMillis.bigEndian, toByteOffset: 18, as: UInt32.self)
            raw.storeBytes(of: bodyLength.bigEndian, toByteOffset: 22, as: UInt32.self)
            return Self.headerSize
        }
    }
}

extension RPCFrame {
    /// A `windowUpdate` frame granting `credit` more stream items.
    static func windowUpdate(correlationID: UInt64, credit: UInt32) -> RPCFrame {
        var body = ByteBuffer()
        body.writeInteger(credit)
        return RPCFrame(kind: .windowUpdate, correlationID: correlationID, body: body)
    }

    /// An `error` frame carrying `error`.
    static func error(_ error: RPCError, methodID: UInt32, correlationID: UInt64) -> RPCFrame {
        var body = ByteBuffer()
        error.encode(into: &body)
        return RPCFrame(kind: .error, methodID: methodID, correlationID: correlationID, body: body)
    }
}
