import NIOCore

/// Reads a segment file through a window of up to 1 MiB, so scans over many small batches cost
/// few `pread` calls. Never reads past `limit` (the segment's valid size).
struct SegmentReader {
    static let windowBytes = 1 << 20

    let file: StorageFile
    let limit: Int
    private var windowStart = 0
    private var window = ByteBuffer()

    init(file: StorageFile, limit: Int) {
        self.file = file
        self.limit = limit
    }

    /// The bytes `[position, position + length)`, or `nil` if they extend past `limit` or the
    /// file is shorter than expected.
    mutating func bytes(at position: Int, length: Int) throws(StorageError) -> ByteBuffer? {
        guard position >= 0, length >= 0, position <= limit, length <= limit - position else { return nil }
        if position < windowStart || position + length > windowStart + window.readableBytes {
            let count = min(max(length, Self.windowBytes), limit - position)
            window = try file.read(at: position, count: count)
            windowStart = position
        }
        guard position + length <= windowStart + window.readableBytes else { return nil }
        return window.getSlice(at: window.readerIndex + position - windowStart, length: length)
    }

    /// What is found at `position`.
    enum Probe {
        /// A whole batch, its header parsed (and its CRC verified if asked).
        case batch(RecordBatchHeader, ByteBuffer)
        /// `position` is the end of the readable data.
        case end
        /// The data ends inside the batch (a torn write).
        case incomplete(reason: String)
        /// The bytes are not a valid batch. `header` is set when only the CRC failed.
        case invalid(RecordBatchError, header: RecordBatchHeader?)
    }

    /// Looks at the batch starting at `position`.
    mutating func probe(at position: Int, maxBatchBytes: Int, verifyChecksum: Bool) throws(StorageError) -> Probe {
        if position == limit { return .end }
        guard let head = try bytes(at: position, length: RecordBatchHeader.size) else {
            return .incomplete(reason: "\(limit - position) bytes left, fewer than a batch header")
        }
        let header: RecordBatchHeader
        do {
            header = try RecordBatchHeader(parsing: head, at: head.readerIndex, maxBatchBytes: maxBatchBytes)
        } catch {
            return .invalid(error, header: nil)
        }
        guard let batch = try bytes(at: position, length: header.totalSize) else {
            return .incomplete(reason: "batch of \(header.totalSize) bytes but only \(limit - position) left")
        }
        if verifyChecksum {
            do {
                try header.verifyChecksum(in: batch, at: batch.readerIndex)
            } catch {
                return .invalid(error, header: header)
            }
        }
        return .batch(header, batch)
    }
}
