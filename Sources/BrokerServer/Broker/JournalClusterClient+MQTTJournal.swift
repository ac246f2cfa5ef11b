import JournalServer
import NIOCore
import Shared

/// The broker's journal operations over a journal cluster (a broker without a local journal):
/// appends go to each shard's active segment leader, reads and tails to its replicas, with the
/// client's transparent retries across leader changes and node failures.
extension JournalClusterClient: MQTTJournal {
    /// Creates the shard with the default settings on a live journal node unless it exists.
    public func ensureShard(_ shard: String) async throws {
        _ = try await createShard(shard)
    }

    /// Creates the shard with `replicationFactor` replicas unless it exists (a replicated shard is
    /// placed by the segment controller; this waits until it can be described).
    public func ensureShard(_ shard: String, replicationFactor: Int) async throws {
        guard replicationFactor > 1 else { return try await ensureShard(shard) }
        _ = try await createShard(shard, settings: ShardSettings(replicationFactor: replicationFactor))
    }

    /// ``appendFuture(shard:records:)``, yielding the last record's offset.
    public func appendRecords(shard: String, records: [Record]) -> EventLoopFuture<Int64> {
        appendFuture(shard: shard, records: records).map(\.lastOffset)
    }

    /// ``read(shard:from:maxBytes:)`` without the records before `offset`.
    public func readRecords(shard: String, from offset: Int64, maxBytes: Int) async throws -> MQTTJournalRead {
        let result = try await read(shard: shard, from: offset, maxBytes: maxBytes)
        return MQTTJournalRead(records: result.records.filter { $0.offset >= offset }, endOffset: result.endOffset)
    }

    /// The shard's acknowledged end offset, as its active segment's leader reports it.
    public func endOffset(shard: String) async throws -> Int64 {
        try await describeShard(shard).endOffset
    }

    /// Iterates ``tail(shard:from:filters:)`` until the task is cancelled or the tail fails.
    public func follow(shard: String, from offset: Int64, _ body: @escaping @Sendable ([Record]) -> Void) async throws {
        for try await batch in tail(shard: shard, from: offset) {
            let records = batch.records.filter { $0.offset >= offset }
            if !records.isEmpty { body(records) }
        }
    }
}
