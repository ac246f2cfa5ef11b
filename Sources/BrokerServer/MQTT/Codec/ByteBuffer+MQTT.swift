import NIOCore

/// The MQTT data representations (section 1.5): big-endian integers, Variable Byte Integers,
/// 2-byte-length-prefixed UTF-8 strings and binary data. Readers throw ``MQTTDecodeError`` and
/// never trap; writers throw ``MQTTEncodeError``.
extension ByteBuffer {
    /// The largest value of a Variable Byte Integer (four bytes).
    static let mqttMaximumVariableByteInteger = 268_435_455

    /// The bytes `value` takes as a Variable Byte Integer.
    static func mqttVariableByteIntegerLength(_ value: Int) -> Int {
        switch value {
        case ..<128: return 1
        case ..<16_384: return 2
        case ..<2_097_152: return 3
        default: return 4
        }
    }

    /// Reads a Variable Byte Integer starting at `index` without moving the reader index.
    /// Returns `nil` if more bytes are needed.
    func getMQTTVariableByteInteger(at index: Int) throws(MQTTDecodeError) -> (value: Int, length: Int)? {
        var value = 0
        for position in 0..<4 {
            guard let byte: UInt8 = self.getInteger(at: index + position) else { return nil }
            value |= Int(byte & 0x7F) << (7 * position)
            if byte & 0x80 == 0 {
                if position > 0 && byte == 0 { throw .variableByteIntegerNotMinimal }
                return (value, position + 1)
            }
        }
        throw .variableByteIntegerTooLong
    }

    /// Reads a Variable Byte Integer inside a packet body.
    mutating func readMQTTVariableByteInteger(_ field: @autoclosure () -> String) throws(MQTTDecodeError) -> Int {
        guard let integer = try self.getMQTTVariableByteInteger(at: self.readerIndex) else {
            throw .truncated(field: field())
        }
        self.moveReaderIndex(forwardBy: integer.length)
        return integer.value
    }

    /// Writes `value` (at most 268,435,455) as a Variable Byte Integer.
    @discardableResult
    mutating func writeMQTTVariableByteInteger(_ value: Int) -> Int {
        var remaining = value
        var written = 0
        repeat {
            var byte = UInt8(truncatingIfNeeded: remaining & 0x7F)
            remaining >>= 7
            if remaining > 0 { byte |= 0x80 }
            self.writeInteger(byte)
            written += 1
        } while remaining > 0
        return written
    }

    /// Reads a big-endian integer.
    mutating func readMQTTInteger<T: FixedWidthInteger>(_ field: @autoclosure () -> String, as: T.Type = T.self) throws(MQTTDecodeError) -> T {
        guard let value: T = self.readInteger() else { throw .truncated(field: field()) }
        return value
    }

    /// Reads 2-byte-length-prefixed binary data as a slice (no copy).
    mutating func readMQTTBinary(_ field: @autoclosure () -> String) throws(MQTTDecodeError) -> ByteBuffer {
        let length: UInt16 = try self.readMQTTInteger(field())
        guard let slice = self.readSlice(length: Int(length)) else { throw .truncated(field: field()) }
        return slice
    }

    /// Reads a 2-byte-length-prefixed UTF-8 string, enforcing the MQTT UTF-8 rules.
    mutating func readMQTTString(_ field: @autoclosure () -> String, rejectDiscouraged: Bool) throws(MQTTDecodeError) -> String {
        let length: UInt16 = try self.readMQTTInteger(field())
        let byteCount = Int(length)
        guard self.readableBytes >= byteCount else { throw .truncated(field: field()) }
        let violation = self.withUnsafeReadableBytes { bytes in
            MQTTUTF8.check(UnsafeRawBufferPointer(rebasing: bytes[0..<byteCount]), rejectDiscouraged: rejectDiscouraged)
        }
        switch violation {
        case .illFormed: throw .invalidUTF8(field: field())
        case .nullCharacter: throw .nullCharacter(field: field())
        case .discouraged: throw .discouragedCodePoint(field: field())
        case nil: break
        }
        guard let string = self.readString(length: byteCount) else { throw .truncated(field: field()) }
        return string
    }

    /// Writes a 2-byte-length-prefixed UTF-8 string.
    mutating func writeMQTTString(_ string: String, _ field: @autoclosure () -> String) throws(MQTTEncodeError) {
        let length = string.utf8.count
        guard length <= Int(UInt16.max) else { throw .stringTooLong(field: field(), length: length) }
        self.writeInteger(UInt16(length))
        self.writeString(string)
    }

    /// Writes 2-byte-length-prefixed binary data.
    mutating func writeMQTTBinary(_ bytes: ByteBuffer, _ field: @autoclosure () -> String) throws(MQTTEncodeError) {
        let length = bytes.readableBytes
        guard length <= Int(UInt16.max) else { throw .binaryDataTooLong(field: field(), length: length) }
        self.writeInteger(UInt16(length))
        self.writeImmutableBuffer(bytes)
    }

    /// Writes what `body` writes, preceded by its length as a Variable Byte Integer plus
    /// `trailingLength` bytes the caller appends afterwards. Reserves four bytes for the length
    /// and moves the (small) body down when the length takes fewer; no intermediate buffer.
    mutating func writeMQTTVariableByteIntegerPrefixed(
        trailingLength: Int = 0,
        _ body: (inout ByteBuffer) throws(MQTTEncodeError) -> Void
    ) throws(MQTTEncodeError) {
        let lengthIndex = self.writerIndex
        self.writeInteger(UInt32(0))
        let bodyStart = self.writerIndex
        try body(&self)
        let bodyLength = self.writerIndex - bodyStart
        let total = bodyLength + trailingLength
        guard total <= Self.mqttMaximumVariableByteInteger else {
            self.moveWriterIndex(to: lengthIndex)
            throw .remainingLengthTooLarge(total)
        }
        let prefixLength = Self.mqttVariableByteIntegerLength(total)
        if prefixLength < 4 && bodyLength > 0 {
            // In-bounds by construction: both ranges lie within the bytes just written.
            _ = try? self.copyBytes(at: bodyStart, to: lengthIndex + prefixLength, length: bodyLength)
        }
        self.moveWriterIndex(to: lengthIndex)
        self.writeMQTTVariableByteInteger(total)
        self.moveWriterIndex(forwardBy: bodyLength)
    }
}
