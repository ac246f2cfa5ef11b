import NIOCore

/// The primitive encodings shared by every Tributary binary format: unsigned LEB128 varints,
/// zig-zag signed varints, and length-prefixed byte strings and UTF-8 strings.
///
/// Readers never trap on malformed input: they throw ``WireDecodingError`` and leave the reader
/// index unspecified (callers discard the buffer on error).
extension ByteBuffer {
    /// The most bytes a 64-bit varint may take.
    public static let maxVarintBytes = 10

    /// The default upper bound for a single length-prefixed field (64 MiB).
    public static let defaultFieldLimit = 64 << 20

    /// Writes `value` as an unsigned LEB128 varint and returns the bytes written.
    @discardableResult
    @inlinable
    public mutating func writeVarint(_ value: UInt64) -> Int {
        var v = value
        var written = 0
        while v >= 0x80 {
            self.writeInteger(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
            written += 1
        }
        self.writeInteger(UInt8(v))
        return written + 1
    }

    /// Reads an unsigned LEB128 varint.
    @inlinable
    public mutating func readVarint() throws(WireDecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        for index in 0..<Self.maxVarintBytes {
            guard let byte: UInt8 = self.readInteger() else {
                throw .truncated(what: "varint")
            }
            if index == Self.maxVarintBytes - 1 && byte > 1 {
                throw .varintTooLong
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                return result
            }
            shift += 7
        }
        throw .varintTooLong
    }

    /// Writes a signed integer as a zig-zag varint (small magnitudes take few bytes).
    @discardableResult
    @inlinable
    public mutating func writeSignedVarint(_ value: Int64) -> Int {
        self.writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// Reads a zig-zag varint.
    @inlinable
    public mutating func readSignedVarint() throws(WireDecodingError) -> Int64 {
        let raw = try self.readVarint()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    /// Reads a varint that must fit in an `Int` no larger than `limit`.
    @inlinable
    public mutating func readLength(_ what: String, limit: Int) throws(WireDecodingError) -> Int {
        let raw = try self.readVarint()
        guard raw <= UInt64(limit) else {
            throw .lengthExceedsLimit(what: what, length: raw > UInt64(Int.max) ? Int.max : Int(raw), limit: limit)
        }
        return Int(raw)
    }

    /// Writes a varint length followed by the bytes.
    @discardableResult
    @inlinable
    public mutating func writeLengthPrefixed(bytes: ByteBuffer) -> Int {
        let n = self.writeVarint(UInt64(bytes.readableBytes))
        var copy = bytes
        return n + self.writeBuffer(&copy)
    }

    /// Writes a varint length followed by the bytes.
    @discardableResult
    @inlinable
    public mutating func writeLengthPrefixed<Bytes: Sequence>(bytes: Bytes) -> Int where Bytes.Element == UInt8 {
        let array = Array(bytes)
        let n = self.writeVarint(UInt64(array.count))
        return n + self.writeBytes(array)
    }

    /// Reads a varint length and that many bytes as a slice of this buffer (no copy).
    @inlinable
    public mutating func readLengthPrefixedSlice(
        _ what: String,
        limit: Int = ByteBuffer.defaultFieldLimit
    ) throws(WireDecodingError) -> ByteBuffer {
        let length = try self.readLength(what, limit: limit)
        guard let slice = self.readSlice(length: length) else {
            throw .truncated(what: what)
        }
        return slice
    }

    /// Writes a varint length followed by the string's UTF-8 bytes.
    @discardableResult
    @inlinable
    public mutating func writeLengthPrefixed(string: String) -> Int {
        let n = self.writeVarint(UInt64(string.utf8.count))
        return n + self.writeString(string)
    }

    /// Reads a varint-length-prefixed UTF-8 string, rejecting invalid UTF-8.
    @inlinable
    public mutating func readLengthPrefixedString(
        _ what: String,
        limit: Int = ByteBuffer.defaultFieldLimit
    ) throws(WireDecodingError) -> String {
        let length = try self.readLength(what, limit: limit)
        guard self.readableBytes >= length else {
            throw .truncated(what: what)
        }
        let string: String?
        do {
            string = try self.readUTF8ValidatedString(length: length)
        } catch {
            throw .invalidUTF8(what: what)
        }
        guard let string else {
            throw .truncated(what: what)
        }
        return string
    }

    /// Reads a fixed-width integer or throws `truncated`.
    @inlinable
    public mutating func readFixed<T: FixedWidthInteger>(_ what: String, as: T.Type = T.self) throws(WireDecodingError) -> T {
        guard let value: T = self.readInteger() else {
            throw .truncated(what: what)
        }
        return value
    }

    /// Writes a boolean as one byte.
    @inlinable
    public mutating func writeBool(_ value: Bool) {
        self.writeInteger(value ? UInt8(1) : UInt8(0))
    }

    /// Reads a boolean written by ``writeBool(_:)``; any byte other than 0 or 1 is an error.
    @inlinable
    public mutating func readBool(_ what: String) throws(WireDecodingError) -> Bool {
        switch try self.readFixed(what, as: UInt8.self) {
        case 0: return false
        case 1: return true
        case let other: throw .unknownTag(what: what, tag: UInt64(other))
        }
    }
}
