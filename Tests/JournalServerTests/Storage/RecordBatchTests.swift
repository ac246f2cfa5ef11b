import NIOCore
import PropertyBased
import Shared
import Testing

@testable import JournalServer

@Suite("RecordBatch v2 encoding")
struct RecordBatchTests {
    /// Two records, hand-encoded per the Kafka RecordBatch v2 description.
    static let exampleBatch = RecordBatch(
        baseOffset: 0x0102,
        partitionLeaderEpoch: 5,
        records: [
            Record(
                offset: 0x0102, timestamp: 1000, key: ByteBuffer(string: "k"), value: ByteBuffer(string: "v"),
                headers: [RecordHeader(key: "h", value: ByteBuffer(string: "x"))]),
            Record(offset: 0x0103, timestamp: 1005, key: nil, value: ByteBuffer()),
        ])

    static let exampleBytes: [UInt8] = {
        var bytes: [UInt8] = [
            0, 0, 0, 0, 0, 0, 0x01, 0x02,  // baseOffset
            0, 0, 0, 0x45,  // batchLength = 81 - 12
            0, 0, 0, 5,  // partitionLeaderEpoch
            2,  // magic
            0, 0, 0, 0,  // crc (filled below)
            0, 0,  // attributes
            0, 0, 0, 1,  // lastOffsetDelta
            0, 0, 0, 0, 0, 0, 0x03, 0xE8,  // baseTimestamp 1000
            0, 0, 0, 0, 0, 0, 0x03, 0xED,  // maxTimestamp 1005
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  // producerId -1
            0xFF, 0xFF,  // producerEpoch -1
            0xFF, 0xFF, 0xFF, 0xFF,  // baseSequence -1
            0, 0, 0, 2,  // recordsCount
            // record 0: length 12 (zig-zag 24), attributes, tsDelta 0, offsetDelta 0,
            // key length 1 (zig-zag 2) "k", value length 1 "v", 1 header: key "h", value "x"
            0x18, 0x00, 0x00, 0x00, 0x02, 0x6B, 0x02, 0x76, 0x02, 0x02, 0x68, 0x02, 0x78,
            // record 1: length 6 (zig-zag 12), attributes, tsDelta 5 (10), offsetDelta 1 (2),
            // key null (-1 → 1), value empty (0), no headers
            0x0C, 0x00, 0x0A, 0x02, 0x01, 0x00, 0x00,
        ]
        let crc = CRC32C.checksum(bytes[21...])
        bytes[17] = UInt8(crc >> 24)
        bytes[18] = UInt8((crc >> 16) & 0xFF)
        bytes[19] = UInt8((crc >> 8) & 0xFF)
        bytes[20] = UInt8(crc & 0xFF)
        return bytes
    }()

    @Test func encodesTheExactKafkaLayout() throws {
        let encoded = try Self.exampleBatch.encoded()
        #expect(Array(encoded.readableBytesView) == Self.exampleBytes)
        #expect(encoded.readableBytes == 81)
    }

    @Test func decodesTheHandEncodedExample() throws {
        var buffer = ByteBuffer(bytes: Self.exampleBytes)
        let batch = try RecordBatch.decode(from: &buffer)
        #expect(batch == Self.exampleBatch)
        #expect(buffer.readableBytes == 0)
        let header = try RecordBatchHeader(parsing: ByteBuffer(bytes: Self.exampleBytes), at: 0)
        #expect(header.baseOffset == 0x0102)
        #expect(header.lastOffset == 0x0103)
        #expect(header.nextOffset == 0x0104)
        #expect(header.totalSize == 81)
        #expect(header.baseTimestamp == 1000)
        #expect(header.maxTimestamp == 1005)
        #expect(header.recordsCount == 2)
        #expect(header.partitionLeaderEpoch == 5)
        #expect(header.crc == CRC32C.checksum(Self.exampleBytes[21...]))
    }

    @Test func baseOffsetAndEpochAreOutsideTheChecksum() throws {
        var buffer = ByteBuffer(bytes: Self.exampleBytes)
        buffer.setInteger(Int64(777), at: 0)
        buffer.setInteger(Int32(9), at: 12)
        let batch = try RecordBatch.decode(from: &buffer)
        #expect(batch.baseOffset == 777)
        #expect(batch.partitionLeaderEpoch == 9)
        #expect(batch.records.map(\.offset) == [777, 778])
    }

    static let bytesGen = Gen.uint8().array(of: 0...24).optional()
    static let headerGen = zip(Gen.character(in: "a"..."ж").string(of: 0...6), bytesGen).map { key, value in
        RecordHeader(key: key, value: value.map { ByteBuffer(bytes: $0) })
    }
    static let recordGen = zip(
        Gen.int64(in: -5_000_000_000...5_000_000_000), bytesGen, bytesGen, headerGen.array(of: 0...3)
    ).map { timestamp, key, value, headers in
        Record(
            timestamp: timestamp, key: key.map { ByteBuffer(bytes: $0) }, value: value.map { ByteBuffer(bytes: $0) },
            headers: headers)
    }

    @Test func roundTripsRandomBatches() async {
        await propertyCheck(input: Self.recordGen.array(of: 1...12), Gen.int64(in: 0...(1 << 50)), Gen.int64(in: 0...3)) {
            records, base, gap in
            // Offsets increase with gaps (as after compaction) when `gap` > 0.
            var numbered = records
            for index in numbered.indices { numbered[index].offset = base + Int64(index) * (gap + 1) }
            let batch = RecordBatch(baseOffset: base, partitionLeaderEpoch: 3, records: numbered)
            var encoded = try batch.encoded()
            let header = try RecordBatchHeader(parsing: encoded, at: 0)
            #expect(header.totalSize == encoded.readableBytes)
            #expect(header.lastOffset == numbered[numbered.count - 1].offset)
            #expect(header.maxTimestamp == numbered.map(\.timestamp).max())
            try header.verifyChecksum(in: encoded, at: 0)
            let decoded = try RecordBatch.decode(from: &encoded)
            #expect(decoded == batch)
        }
    }

    // MARK: - Malformed input

    /// Recomputes the CRC after a test edits covered bytes, so later checks are reached.
    static func fixingChecksum(_ bytes: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer(bytes: bytes)
        buffer.setInteger(CRC32C.checksum(bytes[21...]), at: 17)
        return buffer
    }

    static func decodeError(_ buffer: ByteBuffer, maxBatchBytes: Int = RecordBatchHeader.defaultMaxBatchBytes) -> RecordBatchError? {
        var buffer = buffer
        let before = buffer.readerIndex
        do {
            _ = try RecordBatch.decode(from: &buffer, maxBatchBytes: maxBatchBytes)
            return nil
        } catch {
            #expect(buffer.readerIndex == before)
            return error
        }
    }

    @Test(arguments: [0, 1, 11, 12, 60, 61, 62, 75, 80])
    func truncatedInputIsRejected(length: Int) {
        let buffer = ByteBuffer(bytes: Self.exampleBytes.prefix(length))
        guard case .truncated = Self.decodeError(buffer) else {
            Issue.record("expected .truncated for \(length) bytes")
            return
        }
    }

    @Test func badMagicIsRejected() {
        var bytes = Self.exampleBytes
        bytes[16] = 1
        #expect(Self.decodeError(ByteBuffer(bytes: bytes)) == .unsupportedMagic(1))
    }

    @Test func badChecksumIsRejected() {
        var bytes = Self.exampleBytes
        bytes[70] ^= 0x10
        guard case .checksumMismatch(let stored, let computed) = Self.decodeError(ByteBuffer(bytes: bytes)) else {
            Issue.record("expected a checksum mismatch")
            return
        }
        #expect(stored == CRC32C.checksum(Self.exampleBytes[21...]))
        #expect(computed == CRC32C.checksum(bytes[21...]))
    }

    @Test func negativeAndTinyBatchLengthsAreRejected() {
        for length: Int32 in [-1, Int32.min, 0, 48] {
            var buffer = ByteBuffer(bytes: Self.exampleBytes)
            buffer.setInteger(length, at: 8)
            #expect(Self.decodeError(buffer) == .invalidBatchLength(length))
        }
    }

    @Test func oversizedBatchIsRejectedBeforeReadingIt() {
        var buffer = ByteBuffer(bytes: Self.exampleBytes)
        buffer.setInteger(Int32.max, at: 8)
        #expect(Self.decodeError(buffer) == .batchTooLarge(length: Int(Int32.max) + 12, limit: RecordBatchHeader.defaultMaxBatchBytes))
        #expect(Self.decodeError(ByteBuffer(bytes: Self.exampleBytes), maxBatchBytes: 80) == .batchTooLarge(length: 81, limit: 80))
    }

    @Test func impossibleRecordCountsAreRejected() {
        for count: Int32 in [-1, 3, 1000, Int32.max] {
            var bytes = Self.exampleBytes
            withUnsafeBytes(of: count.bigEndian) { bytes.replaceSubrange(57..<61, with: $0) }
            // 20 record bytes hold at most 2 records of at least 7 bytes each.
            #expect(Self.decodeError(Self.fixingChecksum(bytes)) == .invalidRecordCount(count))
        }
    }

    @Test func negativeLastOffsetDeltaIsRejected() {
        var bytes = Self.exampleBytes
        withUnsafeBytes(of: Int32(-2).bigEndian) { bytes.replaceSubrange(23..<27, with: $0) }
        #expect(Self.decodeError(Self.fixingChecksum(bytes)) == .invalidLastOffsetDelta(-2))
    }

    @Test func negativeKeyLengthIsRejected() {
        var bytes = Self.exampleBytes
        bytes[65] = 0x05  // key length zig-zag 5 = -3
        guard case .malformedRecord(index: 0, reason: .lengthExceedsLimit(what: "record key", length: -3, limit: _)) =
            Self.decodeError(Self.fixingChecksum(bytes))
        else {
            Issue.record("expected a malformed key length")
            return
        }
    }

    @Test func oversizedValueLengthIsRejected() {
        var bytes = Self.exampleBytes
        bytes[67] = 0x7E  // value length 63, far more than the record holds
        guard case .malformedRecord(index: 0, reason: .lengthExceedsLimit(what: "record value", length: 63, limit: _)) =
            Self.decodeError(Self.fixingChecksum(bytes))
        else {
            Issue.record("expected an oversized value length")
            return
        }
    }

    @Test func negativeRecordLengthIsRejected() {
        var bytes = Self.exampleBytes
        bytes[61] = 0x01  // record length -1
        guard case .malformedRecord(index: 0, reason: .lengthExceedsLimit(what: "record length", length: -1, limit: _)) =
            Self.decodeError(Self.fixingChecksum(bytes))
        else {
            Issue.record("expected a negative record length")
            return
        }
    }

    @Test func recordLengthMismatchIsRejected() {
        // Record 1 declares 6 bytes; shrink the batch's second record to claim 7 bytes is impossible
        // (it would run past the batch), so instead add a trailing byte inside record 1's length.
        var bytes = Self.exampleBytes
        bytes[74] = 0x0E  // record 1 length 7
        bytes.append(0x00)
        bytes[11] = 0x46  // batchLength 70
        #expect(Self.decodeError(Self.fixingChecksum(bytes)) == .recordLengthMismatch(index: 1, declared: 7, used: 6))
    }

    @Test func trailingBytesAfterRecordsAreRejected() {
        var bytes = Self.exampleBytes
        bytes.append(contentsOf: [0, 0, 0, 0, 0, 0, 0])
        bytes[11] = 0x4C  // batchLength 76
        #expect(Self.decodeError(Self.fixingChecksum(bytes)) == .trailingBytes(7))
    }

    @Test func compressedBatchesAreReportedNotMisread() {
        var bytes = Self.exampleBytes
        bytes[22] = 0x01  // gzip
        #expect(Self.decodeError(Self.fixingChecksum(bytes)) == .unsupportedCompression(codec: 1))
    }

    @Test func invalidHeaderKeyUTF8IsRejected() {
        var bytes = Self.exampleBytes
        bytes[71] = 0xFF  // header key byte
        guard case .malformedRecord(index: 0, reason: .invalidUTF8) = Self.decodeError(Self.fixingChecksum(bytes)) else {
            Issue.record("expected invalid UTF-8")
            return
        }
    }

    @Test func offsetDeltaBeyondLastOffsetDeltaIsRejected() {
        var bytes = Self.exampleBytes
        bytes[77] = 0x04  // record 1 offset delta 2 > lastOffsetDelta 1
        #expect(Self.decodeError(Self.fixingChecksum(bytes)) == .invalidOffsetDelta(index: 1, delta: 2))
    }

    @Test func encodingRejectsEmptyAndOutOfRangeBatches() {
        #expect(throws: RecordBatchError.emptyBatch) { try RecordBatch(records: []).encoded() }
        let behind = RecordBatch(baseOffset: 10, records: [Record(offset: 9, timestamp: 0, value: nil)])
        #expect(throws: RecordBatchError.invalidOffsetDelta(index: 0, delta: -1)) { try behind.encoded() }
    }
}
