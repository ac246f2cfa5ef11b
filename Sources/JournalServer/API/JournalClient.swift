import NIOCore
import Shared

/// The typed client of ``JournalAPI`` over any ``RPCTransport`` (an ``RPCClient`` to a journal
/// node, or an ``InProcessTransport`` to this process's router). Every method throws or fails
/// with ``RPCError`` (see ``JournalAPI`` for the codes).
public struct JournalClient: Sendable {
    /// The transport calls go over.
    public let transport: any RPCTransport

    /// Creates a client.
    public init(transport: any RPCTransport) {
        self.transport = transport
    }

    /// Creates a shard (idempotent with the same settings) and describes it.
    public func createShard(
        _ shard: String, settings: ShardSettings = ShardSettings(), options: RPCCallOptions = RPCCallOptions()
    ) async throws -> ShardDescription {
        try await transport.call(JournalAPI.createShard, JournalCreateShardRequest(shard: shard, settings: settings), options: options)
    }

    /// Deletes a shard and its data.
    public func deleteShard(_ shard: String, options: RPCCallOptions = RPCCallOptions()) async throws {
        _ = try await transport.call(JournalAPI.deleteShard, JournalShardRequest(shard: shard), options: options)
    }

    /// The node's shard names, sorted.
    public func listShards(options: RPCCallOptions = RPCCallOptions()) async throws -> [String] {
        try await transport.call(JournalAPI.listShards, RPCEmpty(), options: options).shards
    }

    /// A shard's offsets, state and segments.
    public func describeShard(_ shard: String, options: RPCCallOptions = RPCCallOptions()) async throws -> ShardDescription {
        try await transport.call(JournalAPI.describeShard, JournalShardRequest(shard: shard), options: options)
    }

    /// Appends records as one batch; the future completes once they are durable (the broker's
    /// hot path: no `Task`, completes on the transport's event loop).
    /// `ackPolicy` applies to replicated shards (`nil`: `quorum`).
    public func appendFuture(
        shard: String, records: [Record], ackPolicy: ReplicaAckPolicy? = nil, options: RPCCallOptions = RPCCallOptions()
    ) -> EventLoopFuture<JournalAppendResponse> {
        transport.callFuture(JournalAPI.append, JournalAppendRequest(shard: shard, records: records, ackPolicy: ackPolicy), options: options)
    }

    /// Appends records as one batch and returns once they are durable (on as many replicas as
    /// `ackPolicy` asks, for a replicated shard; `nil`: `quorum`).
    public func append(
        shard: String, records: [Record], ackPolicy: ReplicaAckPolicy? = nil, options: RPCCallOptions = RPCCallOptions()
    ) async throws -> JournalAppendResponse {
        try await transport.call(JournalAPI.append, JournalAppendRequest(shard: shard, records: records, ackPolicy: ackPolicy), options: options)
    }

    /// Reads durable records from `offset`.
    public func read(
        shard: String, from offset: Int64, maxBytes: Int = 1 << 20, options: RPCCallOptions = RPCCallOptions()
    ) async throws -> ShardReadResult {
        try await transport.call(JournalAPI.read, JournalReadRequest(shard: shard, start: .offset(offset), maxBytes: maxBytes), options: options)
    }

    /// Reads durable records from the first one at or after `timestamp` (ms since the epoch).
    public func read(
        shard: String, fromTimestamp timestamp: Int64, maxBytes: Int = 1 << 20, options: RPCCallOptions = RPCCallOptions()
    ) async throws -> ShardReadResult {
        try await transport.call(
            JournalAPI.read, JournalReadRequest(shard: shard, start: .timestamp(timestamp), maxBytes: maxBytes), options: options)
    }

    /// Reads; the future form of ``read(shard:from:maxBytes:options:)``.
    public func readFuture(_ request: JournalReadRequest, options: RPCCallOptions = RPCCallOptions()) -> EventLoopFuture<ShardReadResult> {
        transport.callFuture(JournalAPI.read, request, options: options)
    }

    /// Tails a shard: replays from `fromOffset` (`nil`: only new records), then streams each
    /// newly durable batch whose record keys match `filters` (empty: all). Items are flow
    /// controlled by `options.streamWindow`; cancel the stream to stop.
    public func tail(
        shard: String, from fromOffset: Int64?, filters: [String] = [], options: RPCCallOptions = RPCCallOptions()
    ) -> RPCResponseStream<ShardTailBatch> {
        transport.stream(JournalAPI.tail, JournalTailRequest(shard: shard, fromOffset: fromOffset, filters: filters), options: options)
    }
}
