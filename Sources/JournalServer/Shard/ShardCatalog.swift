import Shared

/// Where a journal node records its shards for the rest of the cluster (the meta key space,
/// see ``ShardMetadata``). ``JournalService`` calls it on create, delete and describe.
public protocol ShardCatalog: Sendable {
    /// Records a shard this node created (idempotent: an existing record is kept); returns the record.
    func shardCreated(_ description: ShardDescription) async throws -> ShardMetadata
    /// Removes a deleted shard's record.
    func shardDeleted(_ shard: String) async throws
    /// The shard's record, or `nil` if there is none.
    func metadata(shard: String) async throws -> ShardMetadata?
}

extension ShardCatalog {
    /// Records a replicated shard as pending placement (no segments yet; the segment controller
    /// places it). The default refuses: only a meta-backed catalog can.
    public func shardRequested(_ shard: String, settings: ShardSettings) async throws -> ShardMetadata {
        throw RPCError(.failedPrecondition, "shard '\(shard)': replicated shards need the meta cluster")
    }
}
