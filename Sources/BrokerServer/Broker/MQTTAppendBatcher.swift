import JournalServer
import NIOConcurrencyHelpers
import NIOCore

/// Group commit in front of the journal: records for one shard that arrive while that shard's
/// previous append is in flight are appended together as one batch (one RPC, one write, one
/// fsync), at most ``maximumBatch`` records at a time. Each record's future succeeds with its own
/// offset once its batch is durable.
final class MQTTAppendBatcher: Sendable {
    struct Pending {
        var record: Record
        var promise: EventLoopPromise<Int64>
    }

    struct ShardQueue {
        var pending: [Pending] = []
        var inFlight = false
    }

    /// Most records in one append.
    static let maximumBatch = 512

    let journal: any MQTTJournal
    private let queues: NIOLockedValueBox<[String: ShardQueue]> = NIOLockedValueBox([:])

    init(journal: any MQTTJournal) {
        self.journal = journal
    }

    /// Appends `record` to `shard` with the next batch; the future succeeds with its offset.
    func append(_ record: Record, to shard: String, on eventLoop: any EventLoop) -> EventLoopFuture<Int64> {
        let promise = eventLoop.makePromise(of: Int64.self)
        let start = queues.withLockedValue { queues -> Bool in
            queues[shard, default: ShardQueue()].pending.append(Pending(record: record, promise: promise))
            guard queues[shard]?.inFlight == false else { return false }
            queues[shard]?.inFlight = true
            return true
        }
        if start { flush(shard) }
        return promise.futureResult
    }

    /// Sends what waits for `shard` as one append; when it completes, sends what arrived meanwhile.
    private func flush(_ shard: String) {
        let batch = queues.withLockedValue { queues -> [Pending] in
            guard var queue = queues[shard] else { return [] }
            let count = min(queue.pending.count, Self.maximumBatch)
            let batch = Array(queue.pending.prefix(count))
            queue.pending.removeFirst(count)
            queue.inFlight = !batch.isEmpty
            queues[shard] = queue
            return batch
        }
        guard !batch.isEmpty else { return }
        journal.appendRecords(shard: shard, records: batch.map(\.record)).whenComplete { result in
            switch result {
            case .success(let lastOffset):
                let first = lastOffset - Int64(batch.count - 1)
                for (index, pending) in batch.enumerated() { pending.promise.succeed(first + Int64(index)) }
            case .failure(let error):
                for pending in batch { pending.promise.fail(error) }
            }
            self.flush(shard)
        }
    }
}
