import NIOCore
import Shared

extension ByteBuffer {
    /// Writes a record: signed varint offset, signed varint timestamp, optional key, optional
    /// value (bool present + length-prefixed bytes), varint header count, then each header's
    /// length-prefixed key and optional value.
    mutating func writeJournalRecord(_ record: Record) {
        writeSignedVarint(record.offset)
        writeSignedVarint(record.timestamp)
        writeOptionalBytes(record.key)
        writeOptionalBytes(record.value)
        writeVarint(UInt64(record.headers.count))
        for header in record.headers {
            writeLengthPrefixed(string: header.key)
            writeOptionalBytes(header.value)
        }
    }

    /// Reads a record written by ``writeJournalRecord(_:)``, checking every length against
    /// ``JournalAPI`` limits.
    mutating func readJournalRecord() throws(WireDecodingError) -> Record {
        let offset = try readSignedVarint()
        let timestamp = try readSignedVarint()
        let key = try readOptionalBytes("record key", limit: JournalAPI.maxKeyBytes)
        let value = try readOptionalBytes("record value", limit: JournalAPI.maxValueBytes)
        let count = try readLength("record header count", limit: JournalAPI.maxHeadersPerRecord)
        var headers: [RecordHeader] = []
        headers.reserveCapacity(count)
        for _ in 0..<count {
            let name = try readLengthPrefixedString("header key", limit: JournalAPI.maxKeyBytes)
            headers.append(RecordHeader(key: name, value: try readOptionalBytes("header value", limit: JournalAPI.maxValueBytes)))
        }
        return Record(offset: offset, timestamp: timestamp, key: key, value: value, headers: headers)
    }

    /// Writes a varint count then each record.
    mutating func writeJournalRecords(_ records: [Record]) {
        writeVarint(UInt64(records.count))
        for record in records { writeJournalRecord(record) }
    }

    /// Reads a varint count (at most `limit`) then each record.
    mutating func readJournalRecords(limit: Int) throws(WireDecodingError) -> [Record] {
        let count = try readLength("record count", limit: limit)
        // Each record takes at least 6 bytes: do not reserve more than the body can hold.
        var records: [Record] = []
        records.reserveCapacity(Swift.min(count, readableBytes / 6))
        for _ in 0..<count { records.append(try readJournalRecord()) }
        return records
    }

    mutating func writeOptionalBytes(_ bytes: ByteBuffer?) {
        writeBool(bytes != nil)
        if let bytes { writeLengthPrefixed(bytes: bytes) }
    }

    mutating func readOptionalBytes(_ what: String, limit: Int) throws(WireDecodingError) -> ByteBuffer? {
        guard try readBool(what) else { return nil }
        return try readLengthPrefixedSlice(what, limit: limit)
    }

    mutating func writeOptionalSignedVarint(_ value: Int64?) {
        writeBool(value != nil)
        if let value { writeSignedVarint(value) }
    }

    mutating func readOptionalSignedVarint(_ what: String) throws(WireDecodingError) -> Int64? {
        guard try readBool(what) else { return nil }
        return try readSignedVarint()
    }
}
