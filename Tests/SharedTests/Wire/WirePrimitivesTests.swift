import NIOCore
import PropertyBased
import Testing

@testable import Shared

@Suite("Wire primitives")
struct WirePrimitivesTests {
    @Test func varintsRoundTripAtTheBoundaries() throws {
        let values: [UInt64] = [0, 1, 127, 128, 16_383, 16_384, UInt64(UInt32.max), UInt64.max]
        for value in values {
            var buffer = ByteBuffer()
            let written = buffer.writeVarint(value)
            #expect(written == buffer.readableBytes)
            #expect(try buffer.readVarint() == value)
            #expect(buffer.readableBytes == 0)
        }
        var one = ByteBuffer()
        one.writeVarint(300)
        #expect(Array(one.readableBytesView) == [0xAC, 0x02])
    }

    @Test func signedVarintsUseZigZag() throws {
        for (value, encoded) in [(Int64(0), [UInt8(0)]), (-1, [1]), (1, [2]), (-2, [3]), (Int64.min, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])] {
            var buffer = ByteBuffer()
            buffer.writeSignedVarint(value)
            #expect(Array(buffer.readableBytesView) == encoded)
            #expect(try buffer.readSignedVarint() == value)
        }
    }

    @Test func varintPropertyRoundTrip() async {
        await propertyCheck(input: Gen.int64(in: Int64.min...Int64.max)) { value in
            var buffer = ByteBuffer()
            buffer.writeSignedVarint(value)
            buffer.writeVarint(UInt64(bitPattern: value))
            let signed = try buffer.readSignedVarint()
            let unsigned = try buffer.readVarint()
            #expect(signed == value)
            #expect(unsigned == UInt64(bitPattern: value))
        }
    }

    @Test func malformedVarintsAreTypedErrors() {
        var truncated = ByteBuffer(bytes: [0x80, 0x80])
        #expect(throws: WireDecodingError.truncated(what: "varint")) { try truncated.readVarint() }
        var tooLong = ByteBuffer(bytes: [UInt8](repeating: 0xFF, count: 11))
        #expect(throws: WireDecodingError.varintTooLong) { try tooLong.readVarint() }
        var overflow = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02])
        #expect(throws: WireDecodingError.varintTooLong) { try overflow.readVarint() }
    }

    @Test func lengthPrefixedFieldsCheckTheirLimitBeforeReading() throws {
        var buffer = ByteBuffer()
        buffer.writeLengthPrefixed(string: "héllo")
        buffer.writeLengthPrefixed(bytes: [1, 2, 3])
        #expect(try buffer.readLengthPrefixedString("name") == "héllo")
        #expect(Array(try buffer.readLengthPrefixedSlice("blob").readableBytesView) == [1, 2, 3])

        var huge = ByteBuffer()
        huge.writeVarint(1 << 40)
        #expect(throws: WireDecodingError.lengthExceedsLimit(what: "blob", length: 1 << 40, limit: 1024)) {
            try huge.readLengthPrefixedSlice("blob", limit: 1024)
        }
        var short = ByteBuffer()
        short.writeVarint(10)
        short.writeBytes([1, 2])
        #expect(throws: WireDecodingError.truncated(what: "blob")) { try short.readLengthPrefixedSlice("blob") }
        var badUTF8 = ByteBuffer()
        badUTF8.writeLengthPrefixed(bytes: [0xC3, 0x28])
        #expect(throws: WireDecodingError.invalidUTF8(what: "name")) { try badUTF8.readLengthPrefixedString("name") }
        var badBool = ByteBuffer(bytes: [7])
        #expect(throws: WireDecodingError.unknownTag(what: "flag", tag: 7)) { try badBool.readBool("flag") }
    }

    @Test func crc32cMatchesTheStandardCheckValues() {
        // RFC 3720 / the CRC catalogue's check value for "123456789".
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    @Test func incrementalCRCEqualsOneShot() async {
        await propertyCheck(input: Gen.uint8().array(of: 0...300), Gen.int(in: 0...300)) { bytes, cut in
            let split = min(cut, bytes.count)
            var crc = CRC32C()
            crc.update(bytes[..<split])
            crc.update(bytes[split...])
            #expect(crc.value == CRC32C.checksum(bytes))
            let buffer = ByteBuffer(bytes: bytes)
            #expect(buffer.crc32cOfReadableBytes == crc.value)
            #expect(buffer.crc32c(at: buffer.readerIndex, length: bytes.count) == crc.value)
        }
    }
}
