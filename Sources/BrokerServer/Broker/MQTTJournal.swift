import JournalServer
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// The journal operations the broker performs, in the broker's terms. ``JournalClient`` provides
/// them over the Journal RPC API (``JournalClient+MQTTJournal.swift``); the broker talks to no
/// other storage.
public protocol MQTTJournal: Sendable {
    /// Creates `shard` unless it exists.
    func ensureShard(_ shard: String) async throws
    /// Creates `shard` with `replicationFactor` replicas unless it exists (a journal that holds one
    /// replica per shard ignores the factor).
    func ensureShard(_ shard: String, replicationFactor: Int) async throws
    /// Appends `records`; the future succeeds with the offset of the last one once they are
    /// durable (the acknowledgement point of QoS 1 and 2 publications).
    func appendRecords(shard: String, records: [Record]) -> EventLoopFuture<Int64>
    /// Reads records from `offset` (whole batches, about `maxBytes`): the records at or after
    /// `offset` and the shard's end offset.
    func readRecords(shard: String, from offset: Int64, maxBytes: Int) async throws -> MQTTJournalRead
    /// The offset the next appended record will get.
    func endOffset(shard: String) async throws -> Int64
    /// Follows `shard` from `offset`: calls `body` with every committed batch of records in
    /// offset order until the calling task is cancelled or the tail fails.
    func follow(shard: String, from offset: Int64, _ body: @escaping @Sendable ([Record]) -> Void) async throws
}

extension MQTTJournal {
    /// ``ensureShard(_:)``: one replica.
    public func ensureShard(_ shard: String, replicationFactor: Int) async throws {
        try await ensureShard(shard)
    }
}

/// The result of ``MQTTJournal/readRecords(shard:from:maxBytes:)``.
public struct MQTTJournalRead: Sendable {
    /// Records at or after the requested offset, in order.
    public var records: [Record]
    /// The shard's end offset when read.
    public var endOffset: Int64

    /// A read result.
    public init(records: [Record], endOffset: Int64) {
        self.records = records
        self.endOffset = endOffset
    }
}
