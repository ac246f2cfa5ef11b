import JournalServer
import NIOCore
import Shared

/// The broker's journal operations over the Journal RPC API.
extension JournalClient: MQTTJournal {
    /// Creates the shard with the default settings (idempotent).
    public func ensureShard(_ shard: String) async throws {
        _ = try await createShard(shard)
    }

    /// ``appendFuture(shard:records:options:)``, yielding the last record's offset.
    public func appendRecords(shard: String, records: [Record]) -> EventLoopFuture<Int64> {
        appendFuture(shard: shard, records: records).map(\.lastOffset)
    }

    /// ``read(shard:from:maxBytes:options:)`` without the records before `offset`.
    public func readRecords(shard: String, from offset: Int64, maxBytes: Int) async throws -> MQTTJournalRead {
        let result = try await read(shard: shard, from: offset, maxBytes: maxBytes)
        return MQTTJournalRead(records: result.records.filter { $0.offset >= offset }, endOffset: result.endOffset)
    }

    /// The shard's durable end offset (``describeShard(_:options:)``).
    public func endOffset(shard: String) async throws -> Int64 {
        try await describeShard(shard).endOffset
    }

    /// Iterates ``tail(shard:from:filters:options:)`` until the task is cancelled (which cancels
    /// the stream) or the stream fails.
    public func follow(shard: String, from offset: Int64, _ body: @escaping @Sendable ([Record]) -> Void) async throws {
        let stream = tail(shard: shard, from: offset)
        try await withTaskCancellationHandler {
            for try await batch in stream {
                let records = batch.records.filter { $0.offset >= offset }
                if !records.isEmpty { body(records) }
            }
        } onCancel: {
            stream.cancel()
        }
    }
}
