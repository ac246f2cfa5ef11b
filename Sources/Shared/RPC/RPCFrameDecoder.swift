import NIOCore

/// Splits a byte stream into ``RPCFrame``s.
///
/// The fixed header is validated (magic, version, kind, declared body length against
/// ``maxFrameBytes``) as soon as its 26 bytes are available, before any body byte is buffered,
/// so a hostile peer cannot make us buffer more than one maximum-size frame.
public struct RPCFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = RPCFrame

    /// The largest body accepted.
    public let maxFrameBytes: Int

    /// Creates a decoder accepting bodies up to `maxFrameBytes` (default 16 MiB).
    public init(maxFrameBytes: Int = RPCFrame.defaultMaxFrameBytes) {
        self.maxFrameBytes = maxFrameBytes
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> RPCFrame? {
        try self.decodeFrame(buffer: &buffer)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> RPCFrame? {
        if let frame = try self.decodeFrame(buffer: &buffer) {
            return frame
        }
        if seenEOF && buffer.readableBytes > 0 {
            throw RPCFrameError.truncatedFrame(bufferedBytes: buffer.readableBytes)
        }
        return nil
    }

    private func decodeFrame(buffer: inout ByteBuffer) throws(RPCFrameError) -> RPCFrame? {
        let start = buffer.readerIndex
        // The usual case, a whole header at hand: read it in one go.
        if let (magic, version, kindByte, flags, methodID, correlationID, timeoutMillis, bodyLength) = buffer.getMultipleIntegers(
            at: start,
            as: (UInt16, UInt8, UInt8, UInt16, UInt32, UInt64, UInt32, UInt32).self
        ) {
            guard magic == RPCFrame.magic else { throw .badMagic(magic) }
            guard version == RPCFrame.version else { throw .unsupportedVersion(version) }
            guard let kind = RPCFrameKind(rawValue: kindByte) else { throw .unknownKind(kindByte) }
            guard UInt64(bodyLength) <= UInt64(self.maxFrameBytes) else {
                throw .frameTooLarge(declared: bodyLength, limit: self.maxFrameBytes)
            }
            let total = RPCFrame.headerSize + Int(bodyLength)
            guard buffer.readableBytes >= total, let body = buffer.getSlice(at: start + RPCFrame.headerSize, length: Int(bodyLength)) else {
                return nil
            }
            buffer.moveReaderIndex(forwardBy: total)
            return RPCFrame(
                kind: kind,
                flags: flags,
                methodID: methodID,
                correlationID: correlationID,
                timeoutMillis: timeoutMillis,
                body: body
            )
        }
        // Fewer than 26 bytes: validate what is there, so garbage fails fast.
        if let magic = buffer.getInteger(at: start, as: UInt16.self), magic != RPCFrame.magic {
            throw .badMagic(magic)
        }
        if let version = buffer.getInteger(at: start + 2, as: UInt8.self), version != RPCFrame.version {
            throw .unsupportedVersion(version)
        }
        return nil
    }
}
