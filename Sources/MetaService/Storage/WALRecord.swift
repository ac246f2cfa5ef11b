import NIOCore
import Shared

/// One record of the Raft write-ahead log.
///
/// On disk a record is `length: UInt32 BE` (of the kind byte and body) · `lengthCRC: UInt32 BE`
/// (CRC-32C of the four length bytes, so a damaged length is detected and never mistaken for a
/// torn tail) · `crc: UInt32 BE` (CRC-32C of the kind byte and the body) · `kind: UInt8` · body. Entry payloads are opaque here: the
/// Raft layer encodes its entries into them.
public enum WALRecord: Equatable, Sendable {
    /// A log entry. A later entry record with an index at or below an earlier one replaces that
    /// entry and every entry after it (a follower's conflicting suffix being overwritten).
    case entry(index: UInt64, term: UInt64, payload: [UInt8])
    /// The durable hard state: current term, vote (0 = none) and commit index.
    case hardState(term: UInt64, vote: UInt64, commit: UInt64)
    /// A snapshot at (index, term) is durable; entries at or below `index` are no longer needed.
    case snapshot(index: UInt64, term: UInt64)

    /// Bytes of the frame header before the kind byte (length, length CRC, body CRC).
    static let headerBytes = 12

    /// Largest record body accepted when reading (64 MiB): a longer declared length is corruption.
    static let maxBodyBytes = 64 << 20

    enum Kind: UInt8 {
        case entry = 1
        case hardState = 2
        case snapshot = 3
    }

    /// Appends the framed record to `buffer`.
    func write(into buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        buffer.writeInteger(UInt32(0))  // length, patched below
        buffer.writeInteger(UInt32(0))  // length crc, patched below
        buffer.writeInteger(UInt32(0))  // crc, patched below
        let bodyStart = buffer.writerIndex
        switch self {
        case .entry(let index, let term, let payload):
            buffer.writeInteger(Kind.entry.rawValue)
            buffer.writeVarint(index)
            buffer.writeVarint(term)
            buffer.writeLengthPrefixed(bytes: payload)
        case .hardState(let term, let vote, let commit):
            buffer.writeInteger(Kind.hardState.rawValue)
            buffer.writeVarint(term)
            buffer.writeVarint(vote)
            buffer.writeVarint(commit)
        case .snapshot(let index, let term):
            buffer.writeInteger(Kind.snapshot.rawValue)
            buffer.writeVarint(index)
            buffer.writeVarint(term)
        }
        let length = buffer.writerIndex - bodyStart
        buffer.setInteger(UInt32(length), at: start)
        buffer.setInteger(buffer.crc32c(at: start, length: 4) ?? 0, at: start + 4)
        buffer.setInteger(buffer.crc32c(at: bodyStart, length: length) ?? 0, at: start + 8)
    }

    /// The outcome of reading one record at the front of a buffer.
    enum ReadResult: Equatable {
        /// A valid record and the bytes it occupied.
        case record(WALRecord, size: Int)
        /// The buffer ends inside the record (whose header is intact): a torn write if this is
        /// the end of the file.
        case incomplete
        /// The header itself is damaged (or zeros): the length cannot be trusted.
        case badHeader
        /// The record is complete but its CRC or contents are wrong.
        case invalid(reason: String)
    }

    /// Reads the record at the reader index of `buffer` without consuming it.
    static func read(from buffer: ByteBuffer) -> ReadResult {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
              let lengthCRC = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt32.self),
              let crc = buffer.getInteger(at: buffer.readerIndex + 8, as: UInt32.self) else {
            return .incomplete
        }
        guard buffer.crc32c(at: buffer.readerIndex, length: 4) == lengthCRC, length >= 1, Int(length) <= maxBodyBytes else {
            return .badHeader
        }
        let bodyStart = buffer.readerIndex + headerBytes
        guard buffer.readableBytes >= headerBytes + Int(length) else {
            return .incomplete
        }
        guard buffer.crc32c(at: bodyStart, length: Int(length)) == crc else {
            return .invalid(reason: "CRC mismatch")
        }
        guard var body = buffer.getSlice(at: bodyStart, length: Int(length)) else {
            return .incomplete
        }
        do {
            let record = try decodeBody(&body)
            guard body.readableBytes == 0 else {
                return .invalid(reason: "\(body.readableBytes) unexpected bytes after the record")
            }
            return .record(record, size: headerBytes + Int(length))
        } catch {
            return .invalid(reason: "\(error)")
        }
    }

    private static func decodeBody(_ body: inout ByteBuffer) throws(WireDecodingError) -> WALRecord {
        let rawKind = try body.readFixed("WAL record kind", as: UInt8.self)
        switch Kind(rawValue: rawKind) {
        case .entry:
            let index = try body.readVarint()
            let term = try body.readVarint()
            let payload = try body.readLengthPrefixedSlice("WAL entry payload", limit: maxBodyBytes)
            return .entry(index: index, term: term, payload: Array(payload.readableBytesView))
        case .hardState:
            return .hardState(term: try body.readVarint(), vote: try body.readVarint(), commit: try body.readVarint())
        case .snapshot:
            return .snapshot(index: try body.readVarint(), term: try body.readVarint())
        case nil:
            throw .unknownTag(what: "WAL record kind", tag: UInt64(rawKind))
        }
    }
}
