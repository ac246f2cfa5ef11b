import NIOCore

extension ByteBuffer {
    /// The CRC-32C of the readable bytes in `range` (absolute indices), without copying.
    @inlinable
    public func crc32c(at index: Int, length: Int) -> UInt32? {
        guard index >= self.readerIndex, length >= 0, index + length <= self.writerIndex else {
            return nil
        }
        return self.withVeryUnsafeBytes { raw in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[index..<(index + length)]))
        }
    }

    /// The CRC-32C of all readable bytes.
    @inlinable
    public var crc32cOfReadableBytes: UInt32 {
        self.withUnsafeReadableBytes { CRC32C.checksum($0) }
    }
}
