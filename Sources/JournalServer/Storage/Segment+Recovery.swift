import Logging
import NIOCore

extension Segment {
    /// What a scan over a segment's batches found.
    struct ScanResult {
        var tail: SegmentTail
        var offsetEntries: [OffsetIndex.Entry] = []
        var timeEntries: [TimeIndex.Entry] = []
        var problem: Problem?
    }

    /// The first invalid data a scan met.
    enum Problem: Equatable {
        /// The segment ends with an incomplete or invalid batch and nothing valid after it.
        case tornTail(position: Int, reason: String)
        /// An invalid batch is followed by a valid one: the data in the middle is damaged.
        case corruption(position: Int, reason: String)
    }

    /// Opens an existing segment.
    ///
    /// - The active segment (`asActive`) is scanned batch by batch with CRC checks. A torn tail
    ///   is cut at the last valid batch and the file fsynced; damage followed by valid batches
    ///   marks the segment corrupt. Its indexes are always rebuilt from the scan.
    /// - A sealed segment's indexes are loaded and checked against the log (first and last
    ///   entries point at matching batch headers; the batches after the last entry are scanned
    ///   with CRC checks up to the exact end of the file). If they are missing or inconsistent
    ///   the whole segment is scanned and the indexes rebuilt; any invalid batch in a sealed
    ///   segment marks it corrupt.
    static func open(
        directory: String, baseOffset: Int64, asActive: Bool, options: Options, logger: Logger
    ) throws(StorageError) -> Segment {
        let paths = paths(directory: directory, baseOffset: baseOffset)
        let segment = Segment(
            baseOffset: baseOffset, directory: directory, options: options, logger: logger,
            logFile: try StorageFile.open(paths.log, create: false),
            offsetIndex: OffsetIndex(file: try StorageFile.open(paths.index, create: true)),
            timeIndex: TimeIndex(file: try StorageFile.open(paths.timeIndex, create: true)))
        if asActive {
            try segment.recoverActive()
        } else {
            try segment.openSealed()
        }
        return segment
    }

    /// Scans `[0, fileSize)` from the start, verifying every batch.
    func scan(fileSize: Int) throws(StorageError) -> ScanResult {
        var reader = SegmentReader(file: logFile, limit: fileSize)
        var result = ScanResult(tail: SegmentTail(baseOffset: baseOffset))
        while true {
            let position = result.tail.size
            let probe = try reader.probe(at: position, maxBatchBytes: options.maxBatchBytes, verifyChecksum: true)
            switch probe {
            case .end:
                return result
            case .incomplete(let reason):
                result.problem = .tornTail(position: position, reason: reason)
                return result
            case .invalid(let error, let header):
                result.problem = try classify(
                    position: position, reason: "\(error)", header: header, expectedOffset: result.tail.nextOffset,
                    reader: &reader)
                return result
            case .batch(let header, _):
                guard header.baseOffset == result.tail.nextOffset else {
                    result.problem = try classify(
                        position: position,
                        reason: "batch offset \(header.baseOffset), expected \(result.tail.nextOffset)",
                        header: header, expectedOffset: result.tail.nextOffset, reader: &reader)
                    return result
                }
                if let (offsetEntry, timeEntry) = result.tail.note(
                    header, baseOffset: baseOffset, indexIntervalBytes: options.indexIntervalBytes)
                {
                    result.offsetEntries.append(offsetEntry)
                    result.timeEntries.append(timeEntry)
                }
            }
        }
    }

    /// An invalid batch at `position` is a torn tail unless a valid batch with a later offset
    /// follows it. The damaged batch's own length is tried first; if that does not lead to a
    /// valid batch (the length itself may be damaged), the rest of the file is searched byte by
    /// byte for one — rare and bounded by the file, and it keeps acknowledged batches behind a
    /// damaged header from being cut off as a "tail".
    private func classify(
        position: Int, reason: String, header: RecordBatchHeader?, expectedOffset: Int64, reader: inout SegmentReader
    ) throws(StorageError) -> Problem {
        if let header, header.totalSize < reader.limit - position {
            let next = try reader.probe(
                at: position + header.totalSize, maxBatchBytes: options.maxBatchBytes, verifyChecksum: true)
            if case .batch(let following, _) = next, following.baseOffset > expectedOffset {
                return .corruption(position: position, reason: reason)
            }
        }
        if try validBatchFollows(position, expectedOffset: expectedOffset, reader: &reader) {
            return .corruption(position: position, reason: reason)
        }
        return .tornTail(position: position, reason: reason)
    }

    private func validBatchFollows(
        _ position: Int, expectedOffset: Int64, reader: inout SegmentReader
    ) throws(StorageError) -> Bool {
        var candidate = position + 1
        while candidate + RecordBatchHeader.size <= reader.limit {
            defer { candidate += 1 }
            guard let magicByte = try reader.bytes(at: candidate + RecordBatchHeader.magicOffset, length: 1),
                magicByte.getInteger(at: magicByte.readerIndex, as: Int8.self) == RecordBatchHeader.magic
            else { continue }
            let probe = try reader.probe(at: candidate, maxBatchBytes: options.maxBatchBytes, verifyChecksum: true)
            // Records take at least 7 bytes, so offsets cannot advance faster than that: this
            // keeps a batch embedded in a record value of the torn tail from counting.
            let maxPlausibleOffset = expectedOffset + Int64((candidate - position) / 7) + 1
            if case .batch(let header, _) = probe, header.baseOffset > expectedOffset, header.baseOffset <= maxPlausibleOffset {
                logger.warning("found a valid batch after damaged data", metadata: ["position": "\(candidate)"])
                return true
            }
        }
        return false
    }

    private func recoverActive() throws(StorageError) {
        let fileSize = try logFile.size()
        let result = try scan(fileSize: fileSize)
        switch result.problem {
        case nil:
            logger.info("recovered active segment", metadata: ["size": "\(fileSize)", "nextOffset": "\(result.tail.nextOffset)"])
        case .tornTail(let position, let reason):
            logger.warning(
                "truncating torn tail of active segment",
                metadata: ["position": "\(position)", "fileSize": "\(fileSize)", "reason": "\(reason)"])
            try logFile.truncate(to: position)
            try logFile.sync()
        case .corruption(let position, let reason):
            markCorrupt("invalid batch at position \(position) followed by valid batches: \(reason)")
        }
        restore(tail: result.tail)
        try offsetIndex.replace(with: result.offsetEntries)
        try timeIndex.replace(with: result.timeEntries)
        logger.debug("rebuilt indexes of active segment", metadata: ["entries": "\(result.offsetEntries.count)"])
    }

    private func openSealed() throws(StorageError) {
        let fileSize = try logFile.size()
        switch try checkIndexes(fileSize: fileSize) {
        case .consistent(let tail):
            restore(tail: tail)
            sealAfterOpen()
            return
        case .mismatch(let reason):
            logger.warning("indexes of sealed segment are missing or inconsistent; rebuilding", metadata: ["reason": "\(reason)"])
        }
        let result = try scan(fileSize: fileSize)
        restore(tail: result.tail)
        if let problem = result.problem {
            markCorrupt("sealed segment has invalid data: \(problem)")
        } else {
            try offsetIndex.replace(with: result.offsetEntries)
            try timeIndex.replace(with: result.timeEntries)
            logger.info("rebuilt indexes of sealed segment", metadata: ["entries": "\(result.offsetEntries.count)"])
        }
        sealAfterOpen()
    }

    private func sealAfterOpen() {
        do {
            try seal()
        } catch {
            logger.warning("could not fsync indexes of sealed segment", metadata: ["error": "\(error)"])
        }
    }

    /// The outcome of checking a sealed segment's indexes against its log.
    enum IndexCheck {
        case consistent(SegmentTail)
        case mismatch(String)
    }

    /// Checks the loaded indexes against the log and computes the tail from the last entry on,
    /// verifying the CRC of every batch after the last entry.
    func checkIndexes(fileSize: Int) throws(StorageError) -> IndexCheck {
        do {
            try offsetIndex.load(logSize: fileSize)
            try timeIndex.load()
        } catch {
            if case .invalidIndex(_, let reason) = error { return .mismatch(reason) }
            throw error
        }
        var tail = SegmentTail(baseOffset: baseOffset)
        guard fileSize > 0 else {
            guard offsetIndex.entries.isEmpty, timeIndex.entries.isEmpty else { return .mismatch("entries for an empty log") }
            return .consistent(tail)
        }
        let offsets = offsetIndex.entries
        let times = timeIndex.entries
        guard let first = offsets.first, let last = offsets.last, let lastTime = times.last,
            first.relativeOffset == 0, first.position == 0,
            offsets.count == times.count,
            zip(offsets, times).allSatisfy({ $0.relativeOffset == $1.relativeOffset })
        else {
            return .mismatch("entries do not describe this log")
        }
        var reader = SegmentReader(file: logFile, limit: fileSize)
        guard case .batch(let firstHeader, _) = try reader.probe(at: 0, maxBatchBytes: options.maxBatchBytes, verifyChecksum: false),
            firstHeader.baseOffset == baseOffset
        else {
            return .mismatch("first batch does not start at the base offset")
        }
        tail.firstBatchTimestamp = firstHeader.maxTimestamp
        tail.maxTimestamp = lastTime.timestamp
        tail.size = Int(last.position)
        tail.nextOffset = baseOffset + Int64(last.relativeOffset)
        tail.bytesSinceIndexEntry = 0
        var isFirstAfterEntry = true
        while tail.size < fileSize {
            let probe = try reader.probe(at: tail.size, maxBatchBytes: options.maxBatchBytes, verifyChecksum: true)
            guard case .batch(let header, _) = probe, header.baseOffset == tail.nextOffset else {
                return .mismatch("batches after the last index entry do not match it")
            }
            if !isFirstAfterEntry && tail.bytesSinceIndexEntry >= options.indexIntervalBytes {
                return .mismatch("an index entry is missing at position \(tail.size)")
            }
            isFirstAfterEntry = false
            tail.maxTimestamp = max(tail.maxTimestamp, header.maxTimestamp)
            tail.bytesSinceIndexEntry += header.totalSize
            tail.size += header.totalSize
            tail.nextOffset = header.nextOffset
        }
        return .consistent(tail)
    }
}
