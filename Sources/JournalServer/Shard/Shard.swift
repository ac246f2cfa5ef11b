import CoreMetrics
import Logging
import NIOCore
import Shared
import Synchronization

/// One open shard: its local log, the event loop its appends complete and its tails run on,
/// the durable end offset, and its tails.
///
/// `committedEndOffset` is atomic (read from any thread); the tail table is confined to
/// `eventLoop`.
final class Shard: @unchecked Sendable {
    let name: String
    let settings: ShardSettings
    let log: SegmentLog
    let directory: String
    let tailReadBytes: Int
    let metrics: ShardMetrics
    private let committed: Atomic<Int64>
    /// Loop-confined.
    private var tails: [ObjectIdentifier: ShardTailCursor] = [:]
    /// Set once the shard is closed (deleted, or the store closed); later operations and tails
    /// fail with it.
    private let closedReason = Mutex<ShardStoreError?>(nil)

    var eventLoop: any EventLoop { log.eventLoop }

    init(name: String, settings: ShardSettings, log: SegmentLog, tailReadBytes: Int, metrics: ShardMetrics) {
        self.name = name
        self.metrics = metrics
        self.settings = settings
        self.log = log
        self.directory = log.directory
        self.tailReadBytes = tailReadBytes
        // What recovery found on disk is what survived: it is the durable end.
        self.committed = Atomic(log.logEndOffset)
    }

    /// One past the last durable offset; readers and tails never go beyond it.
    var committedEndOffset: Int64 { committed.load(ordering: .acquiring) }

    func mapError(_ error: any Error) -> any Error {
        switch error {
        case let storage as StorageError:
            switch storage {
            case .invalidBatch(let batchError): return ShardStoreError.invalidRecords("\(batchError)")
            case .offsetOutOfRange(let requested, let start, _):
                return ShardStoreError.offsetOutOfRange(shard: name, requested: requested, start: start, end: committedEndOffset)
            case .closed: return closedReason.withLock { $0 } ?? ShardStoreError.shardDeleted(name)
            default: return ShardStoreError.storage(shard: name, storage)
            }
        case let batch as RecordBatchError:
            return ShardStoreError.storage(shard: name, .invalidBatch(batch))
        default:
            return error
        }
    }

    /// Appends records as one batch; completes (on the shard's loop) once durable.
    func append(_ records: [Record]) -> EventLoopFuture<AppendResult> {
        guard !records.isEmpty else {
            return eventLoop.makeFailedFuture(ShardStoreError.invalidRecords("no records"))
        }
        let started = NIODeadline.now()
        return log.append(RecordBatch(sequential: records)).flatMapErrorThrowing { error in
            throw self.mapError(error)
        }.map { result in
            self.metrics.ackLatency.recordNanoseconds((NIODeadline.now() - started).nanoseconds)
            self.didCommit(result, records: records)
            return result
        }
    }

    /// Appends one encoded batch; completes (on the shard's loop) once durable.
    func append(encoded: ByteBuffer) -> EventLoopFuture<AppendResult> {
        let started = NIODeadline.now()
        return log.append(encoded: encoded).flatMapErrorThrowing { error in
            throw self.mapError(error)
        }.map { result in
            self.metrics.ackLatency.recordNanoseconds((NIODeadline.now() - started).nanoseconds)
            self.didCommit(result, records: nil)
            return result
        }
    }

    /// On the loop: an append became durable; advance the end and wake the tails.
    private func didCommit(_ result: AppendResult, records: [Record]?) {
        eventLoop.preconditionInEventLoop()
        let end = result.lastOffset + 1
        metrics.appendedRecords.increment(by: Int(result.lastOffset - result.baseOffset + 1))
        if end > committed.load(ordering: .relaxed) {
            committed.store(end, ordering: .releasing)
        }
        guard !tails.isEmpty else { return }
        let numbered = records.map { records in
            var numbered = records
            for index in numbered.indices { numbered[index].offset = result.baseOffset + Int64(index) }
            return numbered
        }
        for tail in tails.values {
            tail.committed(baseOffset: result.baseOffset, records: numbered)
        }
    }

    /// Reads durable records from `offset` on.
    func read(from offset: Int64, maxBytes: Int) -> EventLoopFuture<ShardReadResult> {
        let end = committedEndOffset
        let start = log.logStartOffset
        guard offset <= end, offset >= 0 else {
            return eventLoop.makeFailedFuture(
                ShardStoreError.offsetOutOfRange(shard: name, requested: offset, start: start, end: end))
        }
        guard offset < end else {
            return eventLoop.makeSucceededFuture(ShardReadResult(records: [], nextOffset: end, startOffset: start, endOffset: end))
        }
        return log.read(from: offset, maxBytes: max(maxBytes, 1)).flatMapErrorThrowing { error in
            throw self.mapError(error)
        }.flatMapThrowing { read in
            let (records, next) = try self.records(in: read, from: offset, end: end, filter: nil)
            return ShardReadResult(records: records, nextOffset: next, startOffset: read.logStartOffset, endOffset: end)
        }
    }

    /// The records of `read` in `[from, end)` whose key matches `filter` (all when `nil`), and
    /// the offset after the last record examined.
    func records(in read: LogReadResult, from: Int64, end: Int64, filter: TopicFilterSet?) throws -> ([Record], Int64) {
        let batches: [RecordBatch]
        do {
            batches = try read.batches(maxBatchBytes: log.configuration.maxBatchBytes)
        } catch {
            throw ShardStoreError.storage(shard: name, .invalidBatch(error))
        }
        var records: [Record] = []
        for batch in batches {
            for record in batch.records where record.offset >= from && record.offset < end {
                if let filter {
                    guard let key = record.key, filter.matches(utf8: key.readableBytesView) else { continue }
                }
                records.append(record)
            }
        }
        return (records, min(read.nextOffset, end))
    }

    /// The first durable offset with a timestamp at or after `timestamp`, or `nil`.
    func offset(forTimestamp timestamp: Int64) -> EventLoopFuture<Int64?> {
        log.offset(forTimestamp: timestamp).flatMapErrorThrowing { error in
            throw self.mapError(error)
        }.map { offset in
            guard let offset, offset < self.committedEndOffset else { return nil }
            return offset
        }
    }

    /// Starts a tail (call on any thread).
    func subscribe(
        from offset: Int64?, filter: TopicFilterSet?, handler: @escaping ShardTail.Handler
    ) -> ShardTail {
        let promise = eventLoop.makePromise(of: Void.self)
        let box = CursorBox()
        eventLoop.execute {
            if let reason = self.closedReason.withLock({ $0 }) {
                promise.fail(reason)
                return
            }
            let end = self.committedEndOffset
            let start = offset ?? end
            guard start <= end else {
                promise.fail(ShardStoreError.offsetOutOfRange(
                    shard: self.name, requested: start, start: self.log.logStartOffset, end: end))
                return
            }
            let cursor = ShardTailCursor(
                shard: self, position: max(start, self.log.logStartOffset), filter: filter, handler: handler, promise: promise)
            self.tails[ObjectIdentifier(cursor)] = cursor
            self.metrics.tails.record(self.tails.count)
            box.cursor = cursor
            cursor.pump()
        }
        let loop = eventLoop
        return ShardTail(shard: name, completion: promise.futureResult) {
            loop.execute { box.cursor?.finish(.success(())) }
        }
    }

    /// On the loop: forget a finished tail.
    func remove(_ cursor: ShardTailCursor) {
        tails[ObjectIdentifier(cursor)] = nil
        metrics.tails.record(tails.count)
    }

    /// Ends every tail with `reason` and closes the log.
    func close(reason: ShardStoreError) -> EventLoopFuture<Void> {
        closedReason.withLock { $0 = reason }
        return eventLoop.flatSubmit {
            for tail in self.tails.values { tail.finish(.failure(reason)) }
            self.tails = [:]
            self.metrics.tails.record(0)
            return self.log.close()
        }
    }
}

/// Holds a tail's cursor once the loop registered it (touched only on the shard's loop).
final class CursorBox: @unchecked Sendable {
    var cursor: ShardTailCursor?
}
