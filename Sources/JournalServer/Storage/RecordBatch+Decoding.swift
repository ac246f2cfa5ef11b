import NIOCore
import Shared

extension RecordBatch {
    /// Reads one whole batch from `buffer`, verifying its length against `maxBatchBytes` before
    /// touching the records, then its CRC-32C, then every record's fields.
    ///
    /// On success the reader index moves past the batch; on error it is unchanged.
    public static func decode(
        from buffer: inout ByteBuffer,
        maxBatchBytes: Int = RecordBatchHeader.defaultMaxBatchBytes
    ) throws(RecordBatchError) -> RecordBatch {
        let start = buffer.readerIndex
        let header = try RecordBatchHeader(parsing: buffer, at: start, maxBatchBytes: maxBatchBytes)
        try header.verifyChecksum(in: buffer, at: start)
        guard header.attributes.compressionCodec == 0 else {
            throw .unsupportedCompression(codec: header.attributes.compressionCodec)
        }
        guard var body = buffer.getSlice(at: start + RecordBatchHeader.size, length: header.totalSize - RecordBatchHeader.size) else {
            throw .truncated(needed: header.totalSize, available: buffer.readableBytes)
        }
        var records: [Record] = []
        records.reserveCapacity(Int(header.recordsCount))
        for index in 0..<Int(header.recordsCount) {
            records.append(try decodeRecord(index: index, from: &body, header: header))
        }
        guard body.readableBytes == 0 else { throw .trailingBytes(body.readableBytes) }
        buffer.moveReaderIndex(forwardBy: header.totalSize)
        return RecordBatch(
            baseOffset: header.baseOffset,
            partitionLeaderEpoch: header.partitionLeaderEpoch,
            attributes: header.attributes,
            producerId: header.producerId,
            producerEpoch: header.producerEpoch,
            baseSequence: header.baseSequence,
            records: records)
    }

    /// Decodes every batch in `buffer` (for example the bytes of a read), in order.
    public static func decodeAll(
        _ buffer: ByteBuffer,
        maxBatchBytes: Int = RecordBatchHeader.defaultMaxBatchBytes
    ) throws(RecordBatchError) -> [RecordBatch] {
        var buffer = buffer
        var batches: [RecordBatch] = []
        while buffer.readableBytes > 0 {
            batches.append(try decode(from: &buffer, maxBatchBytes: maxBatchBytes))
        }
        return batches
    }

    private static func decodeRecord(
        index: Int,
        from body: inout ByteBuffer,
        header: RecordBatchHeader
    ) throws(RecordBatchError) -> Record {
        do {
            let length = try body.readSignedVarint()
            guard length >= 0, length <= Int64(body.readableBytes) else {
                throw WireDecodingError.lengthExceedsLimit(
                    what: "record length", length: Int(clamping: length), limit: body.readableBytes)
            }
            guard var fields = body.readSlice(length: Int(length)) else {
                throw WireDecodingError.truncated(what: "record")
            }
            _ = try fields.readFixed("record attributes", as: Int8.self)
            let timestampDelta = try fields.readSignedVarint()
            let offsetDelta = try fields.readSignedVarint()
            guard offsetDelta >= 0, offsetDelta <= Int64(header.lastOffsetDelta) else {
                throw RecordBatchError.invalidOffsetDelta(index: index, delta: offsetDelta)
            }
            let (timestamp, overflow) = header.baseTimestamp.addingReportingOverflow(timestampDelta)
            guard !overflow else { throw RecordBatchError.invalidTimestampDelta(index: index, delta: timestampDelta) }
            let key = try readNullableBytes("record key", from: &fields)
            let value = try readNullableBytes("record value", from: &fields)
            let headerCount = try fields.readSignedVarint()
            // Each header takes at least two bytes (key length, value length).
            guard headerCount >= 0, headerCount <= Int64(fields.readableBytes / 2) else {
                throw WireDecodingError.invalidValue(what: "header count", reason: "\(headerCount) headers cannot fit")
            }
            var headers: [RecordHeader] = []
            headers.reserveCapacity(Int(headerCount))
            for _ in 0..<Int(headerCount) {
                let keyLength = try fields.readSignedVarint()
                guard keyLength >= 0, keyLength <= Int64(fields.readableBytes) else {
                    throw WireDecodingError.lengthExceedsLimit(
                        what: "header key", length: Int(clamping: keyLength), limit: fields.readableBytes)
                }
                let key: String?
                do {
                    key = try fields.readUTF8ValidatedString(length: Int(keyLength))
                } catch {
                    throw WireDecodingError.invalidUTF8(what: "header key")
                }
                guard let key else { throw WireDecodingError.truncated(what: "header key") }
                let value = try readNullableBytes("header value", from: &fields)
                headers.append(RecordHeader(key: key, value: value))
            }
            guard fields.readableBytes == 0 else {
                throw RecordBatchError.recordLengthMismatch(
                    index: index, declared: Int(length), used: Int(length) - fields.readableBytes)
            }
            return Record(
                offset: header.baseOffset + offsetDelta, timestamp: timestamp,
                key: key, value: value, headers: headers)
        } catch let error as WireDecodingError {
            throw .malformedRecord(index: index, reason: error)
        } catch let error as RecordBatchError {
            throw error
        } catch {
            throw .malformedRecord(index: index, reason: .invalidValue(what: "record", reason: "\(error)"))
        }
    }

    private static func readNullableBytes(_ what: String, from buffer: inout ByteBuffer) throws(WireDecodingError) -> ByteBuffer? {
        let length = try buffer.readSignedVarint()
        if length == -1 { return nil }
        guard length >= 0, length <= Int64(buffer.readableBytes) else {
            throw .lengthExceedsLimit(what: what, length: Int(clamping: length), limit: buffer.readableBytes)
        }
        guard let slice = buffer.readSlice(length: Int(length)) else { throw .truncated(what: what) }
        return slice
    }
}
