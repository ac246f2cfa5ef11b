import NIOCore
import Shared

/// A tail of a shard across the cluster (``JournalClusterClient/tail(shard:from:filters:)``):
/// an `AsyncSequence` of ``ShardTailBatch``es in offset order. It follows one replica of the
/// segment holding its position; when that node fails, the stream ends (the segment was sealed
/// or the node closed it) or the node no longer holds the shard, it re-reads the shard's record
/// and resumes after the last delivered offset on another replica or the next segment's nodes.
/// It throws when no node served it for ``JournalClusterClient/Options/timeout``, on a
/// non-retryable error (for example an unknown shard), and stops (returns `nil`) when the
/// consuming task is cancelled. Each batch is requested when the consumer asks for the next one
/// (back-pressure through the RPC stream window).
public struct JournalClusterTail: AsyncSequence, Sendable {
    public typealias Element = ShardTailBatch
    public typealias Failure = any Error

    let client: JournalClusterClient
    let shard: String
    let from: Int64?
    let filters: [String]

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(client: client, shard: shard, position: from, filters: filters)
    }

    /// The iterator; not shared between tasks.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let client: JournalClusterClient
        let shard: String
        var position: Int64?
        let filters: [String]
        var stream: RPCResponseStream<ShardTailBatch>?
        var attempt = 0
        var failingSince: NIODeadline?

        public mutating func next() async throws -> ShardTailBatch? {
            client.start()
            while true {
                if Task.isCancelled {
                    stream?.cancel()
                    return nil
                }
                if stream == nil { stream = try await open() }
                if let current = stream {
                    do {
                        var iterator = current.makeAsyncIterator()
                        let batch = try await withTaskCancellationHandler {
                            try await iterator.next()
                        } onCancel: {
                            current.cancel()
                        }
                        if let batch {
                            position = batch.nextOffset
                            failingSince = nil
                            return batch
                        }
                        // The node ended the tail (segment sealed, node closing): find where to go on.
                        stream = nil
                    } catch let error where JournalClusterClient.isRetryable(error) || (error as? RPCError)?.code == .cancelled {
                        stream = nil
                        if Task.isCancelled { return nil }
                        attempt += 1
                        try noteFailure(error)
                    }
                } else {
                    try noteFailure(RPCError(.unavailable, "tail of '\(shard)': no replica of the segment is registered"))
                }
                try await Task.sleep(nanoseconds: UInt64(Swift.max(0, client.options.backoff.nanoseconds)))
                _ = try await client.refresh(shard: shard)
                try await client.refreshNodes()
            }
        }

        /// Throws `error` once failures have lasted the client's whole timeout.
        mutating func noteFailure(_ error: any Error) throws {
            let now = NIODeadline.now()
            guard let since = failingSince else {
                failingSince = now
                return
            }
            if now - since >= client.options.timeout { throw error }
        }

        /// Opens a tail on one replica of the segment holding the position (`nil` if none is known).
        mutating func open() async throws -> RPCResponseStream<ShardTailBatch>? {
            let shard = self.shard
            let position = self.position
            if client.view.shards[shard] == nil {
                guard try await client.refresh(shard: shard) != nil else { throw RPCError(.notFound, "unknown shard '\(shard)'") }
            }
            var targets = client.view.readTargets(shard: shard, offset: position)
            if targets.isEmpty || targets.contains(where: { client.view.nodes[$0] == nil }) {
                try await client.refreshNodes()
                targets = client.view.readTargets(shard: shard, offset: position)
            }
            let view = client.view
            let live = targets.compactMap { view.nodes[$0] }
            guard !live.isEmpty else { return nil }
            let address = live[attempt % live.count]
            return JournalClient(transport: client.transport(for: address)).tail(shard: shard, from: position, filters: filters)
        }
    }
}
