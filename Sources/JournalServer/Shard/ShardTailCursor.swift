import CoreMetrics
import NIOCore
import Shared

/// One tail's progress through a shard, confined to the shard's event loop.
///
/// It reads stored records from its position up to the durable end (whole reads of at most the
/// shard's tail read size), hands matching records to the handler, and waits for the
/// handler's future before going on (back-pressure). At the durable end it idles until the
/// next commit; a commit that continues exactly at its position is delivered from memory,
/// anything else is caught up from disk.
final class ShardTailCursor: @unchecked Sendable {
    private let shard: Shard
    private let filter: TopicFilterSet?
    private let handler: ShardTail.Handler
    private let promise: EventLoopPromise<Void>
    private(set) var position: Int64
    private var busy = false
    private var finished = false

    init(shard: Shard, position: Int64, filter: TopicFilterSet?, handler: @escaping ShardTail.Handler, promise: EventLoopPromise<Void>) {
        self.shard = shard
        self.position = position
        self.filter = filter
        self.handler = handler
        self.promise = promise
    }

    /// Catches up from disk if behind the durable end and not waiting for the handler.
    func pump() {
        guard !finished, !busy else { return }
        let end = shard.committedEndOffset
        guard position < end else { return }
        busy = true
        let from = position
        shard.log.read(from: from, maxBytes: shard.tailReadBytes).whenComplete { result in
            self.busy = false
            guard !self.finished else { return }
            switch result {
            case .failure(let error):
                if let storage = error as? StorageError, case .offsetOutOfRange(_, let logStart, _) = storage, from < logStart {
                    // Retention removed what the tail wanted; continue from what is left.
                    self.position = logStart
                    self.pump()
                } else {
                    self.finish(.failure(self.shard.mapError(error)))
                }
            case .success(let read):
                do {
                    let (records, next) = try self.shard.records(in: read, from: from, end: end, filter: self.filter)
                    guard next > from else {
                        self.finish(.failure(ShardStoreError.storage(
                            shard: self.shard.name, .corruptSegment(baseOffset: from, reason: "read made no progress"))))
                        return
                    }
                    self.deliver(records, next: next)
                } catch {
                    self.finish(.failure(error))
                }
            }
        }
    }

    /// A batch became durable.
    func committed(baseOffset: Int64, records: [Record]?) {
        guard !finished, !busy else { return }
        guard let records, baseOffset == position, let last = records.last else {
            pump()
            return
        }
        let matching: [Record]
        if let filter {
            matching = records.filter { record in record.key.map { filter.matches(utf8: $0.readableBytesView) } ?? false }
        } else {
            matching = records
        }
        deliver(matching, next: last.offset + 1)
    }

    private func deliver(_ records: [Record], next: Int64) {
        position = next
        guard !records.isEmpty else {
            pump()
            return
        }
        busy = true
        shard.metrics.tailedRecords.increment(by: records.count)
        let loop = shard.eventLoop
        handler(ShardTailBatch(records: records, nextOffset: next)).hop(to: loop).whenComplete { result in
            self.busy = false
            switch result {
            case .success: self.pump()
            case .failure(let error): self.finish(.failure(error))
            }
        }
    }

    /// Ends the tail (idempotent).
    func finish(_ result: Result<Void, any Error>) {
        guard !finished else { return }
        finished = true
        shard.remove(self)
        promise.completeWith(result)
    }
}
