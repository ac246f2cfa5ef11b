import Logging
import NIOCore

extension Segment {
    /// Whole batches read from a segment.
    struct ReadResult {
        /// The batches, back to back, exactly as stored.
        var bytes: ByteBuffer
        /// The offset after the last returned batch (the requested offset if none).
        var nextOffset: Int64
        /// Whether the read stopped at the end of the segment's data (not at `maxBytes`).
        var reachedEnd: Bool
    }

    /// What a reader needs to read a segment without its owner's lock: captured under the
    /// lock, executed outside it.
    struct ReadPlan: @unchecked Sendable {
        let segment: Segment
        let file: StorageFile
        /// Index lookup result: where to start scanning for `offset`.
        let startPosition: Int
        /// The segment's valid size when planned; bytes below it do not change unless the
        /// generation changes.
        let limit: Int
        let generation: Int
        let offset: Int64
        let maxBatchBytes: Int
        /// Set if the segment was already known to be corrupt.
        let corruption: String?
    }

    /// How executing a read plan ended.
    enum ReadOutcome {
        case read(ReadResult)
        /// The bytes are not valid batches: corruption, unless the segment changed meanwhile.
        case damaged(reason: String)
    }

    /// Plans a read from `offset` (call with the owner's state lock held, or on its queue).
    func readPlan(from offset: Int64) -> ReadPlan {
        ReadPlan(
            segment: self, file: logFile, startPosition: startPosition(forOffset: offset), limit: tail.size,
            generation: generation, offset: max(offset, baseOffset), maxBatchBytes: options.maxBatchBytes,
            corruption: corruption)
    }

    /// Reads whole batches, starting with the one containing the plan's offset, while they fit in
    /// `maxBytes` (with `atLeastOneBatch`, the first batch is returned even if larger). Every
    /// batch's CRC is verified. Touches no mutable segment state, so it runs without locks.
    static func execute(_ plan: ReadPlan, maxBytes: Int, atLeastOneBatch: Bool) throws(StorageError) -> ReadOutcome {
        if let corruption = plan.corruption {
            throw .corruptSegment(baseOffset: plan.segment.baseOffset, reason: corruption)
        }
        let offset = plan.offset
        var result = ReadResult(bytes: ByteBuffer(), nextOffset: offset, reachedEnd: true)
        var position = plan.startPosition
        var reader = SegmentReader(file: plan.file, limit: plan.limit)
        while true {
            switch try reader.probe(at: position, maxBatchBytes: plan.maxBatchBytes, verifyChecksum: true) {
            case .end:
                return .read(result)
            case .incomplete(let reason):
                return .damaged(reason: "batch at position \(position) is incomplete: \(reason)")
            case .invalid(let error, _):
                return .damaged(reason: "batch at position \(position) is invalid: \(error)")
            case .batch(let header, let bytes):
                position += header.totalSize
                if header.lastOffset < offset { continue }
                let fits = result.bytes.readableBytes + header.totalSize <= maxBytes
                guard fits || (atLeastOneBatch && result.bytes.readableBytes == 0) else {
                    result.reachedEnd = false
                    return .read(result)
                }
                result.bytes.writeImmutableBuffer(bytes)
                result.nextOffset = header.nextOffset
            }
        }
    }

    /// Reads on the owner's queue (no concurrent mutation): a damaged batch marks the segment
    /// corrupt and throws.
    func read(from offset: Int64, maxBytes: Int, atLeastOneBatch: Bool) throws(StorageError) -> ReadResult {
        switch try Self.execute(readPlan(from: offset), maxBytes: maxBytes, atLeastOneBatch: atLeastOneBatch) {
        case .read(let result): return result
        case .damaged(let reason): throw corrupt(reason)
        }
    }

    /// The offset of the first record whose timestamp is at least `timestamp`, or `nil` if every
    /// record of the segment is older.
    func offset(forTimestamp timestamp: Int64) throws(StorageError) -> Int64? {
        try ensureHealthy()
        guard !isEmpty, tail.maxTimestamp >= timestamp else { return nil }
        let startRelative = timeIndex.lastBefore(timestamp)?.relativeOffset ?? 0
        var position = Int(offsetIndex.floor(startRelative)?.position ?? 0)
        var reader = SegmentReader(file: logFile, limit: tail.size)
        while true {
            switch try reader.probe(at: position, maxBatchBytes: options.maxBatchBytes, verifyChecksum: true) {
            case .end:
                return nil
            case .incomplete(let reason):
                throw corrupt("batch at position \(position) is incomplete: \(reason)")
            case .invalid(let error, _):
                throw corrupt("batch at position \(position) is invalid: \(error)")
            case .batch(let header, var bytes):
                position += header.totalSize
                guard header.maxTimestamp >= timestamp else { continue }
                do {
                    let batch = try RecordBatch.decode(from: &bytes, maxBatchBytes: options.maxBatchBytes)
                    return batch.records.first { $0.timestamp >= timestamp }?.offset ?? header.baseOffset
                } catch .unsupportedCompression {
                    return header.baseOffset
                } catch {
                    throw corrupt("batch at offset \(header.baseOffset) does not decode: \(error)")
                }
            }
        }
    }

    /// Removes every batch that contains an offset at or after `offset` (whole batches: the new
    /// end can be below `offset` if it falls inside a batch). Returns the new next offset.
    func truncate(to offset: Int64) throws(StorageError) -> Int64 {
        guard offset < tail.nextOffset else { return tail.nextOffset }
        bumpGeneration()
        var cut = 0
        if offset > baseOffset {
            try ensureHealthy()
            cut = startPosition(forOffset: offset)
            var reader = SegmentReader(file: logFile, limit: tail.size)
            scanning: while true {
                switch try reader.probe(at: cut, maxBatchBytes: options.maxBatchBytes, verifyChecksum: false) {
                case .batch(let header, _):
                    if header.lastOffset >= offset { break scanning }
                    cut += header.totalSize
                case .end:
                    break scanning
                case .incomplete(let reason):
                    throw corrupt("batch at position \(cut) is incomplete: \(reason)")
                case .invalid(let error, _):
                    throw corrupt("batch at position \(cut) is invalid: \(error)")
                }
            }
        }
        try logFile.truncate(to: cut)
        try logFile.sync()
        markSynced()
        let result = try scan(fileSize: cut)
        restore(tail: result.tail)
        try offsetIndex.replace(with: result.offsetEntries)
        try timeIndex.replace(with: result.timeEntries)
        if let problem = result.problem {
            markCorrupt("invalid data before the truncation point: \(problem)")
        }
        logger.info("truncated segment", metadata: ["requested": "\(offset)", "nextOffset": "\(tail.nextOffset)", "size": "\(cut)"])
        return tail.nextOffset
    }

    /// The file position to start scanning from for `offset`, from the offset index.
    private func startPosition(forOffset offset: Int64) -> Int {
        let relative = offset - baseOffset
        guard relative > 0 else { return 0 }
        let key = relative > Int64(UInt32.max) ? UInt32.max : UInt32(relative)
        return Int(offsetIndex.floor(key)?.position ?? 0)
    }

    private func ensureHealthy() throws(StorageError) {
        if let corruption { throw .corruptSegment(baseOffset: baseOffset, reason: corruption) }
    }

    func corrupt(_ reason: String) -> StorageError {
        markCorrupt(reason)
        return .corruptSegment(baseOffset: baseOffset, reason: reason)
    }
}
