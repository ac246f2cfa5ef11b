import MetaService
import Shared

/// Records shards in the meta key space through a ``MetaClient`` (`/journal/shards/<name>`).
///
/// A shard created on a node is recorded with one segment at its start offset whose replica set
/// and leader are that node, epoch 1. The first create writes the record (compare-and-set on
/// absence); a repeated or concurrent create returns the record already there.
public struct MetaShardCatalog: ShardCatalog {
    /// The meta cluster.
    public let client: MetaClient
    /// This journal node's id.
    public let nodeID: UInt64

    /// Creates a catalog for journal node `nodeID`.
    public init(client: MetaClient, nodeID: UInt64) {
        self.client = client
        self.nodeID = nodeID
    }

    public func shardCreated(_ description: ShardDescription) async throws -> ShardMetadata {
        let key = ShardMetadata.key(shard: description.name)
        let record = ShardMetadata(
            replicationFactor: description.settings.replicationFactor,
            segments: [.init(baseOffset: description.startOffset, replicas: [nodeID], leader: nodeID, epoch: 1)])
        switch try await client.compareAndSet(key, expect: .absent, value: record.encodedBytes) {
        case .compareFailed(_, let current?):
            return try ShardMetadata(bytes: current.value)
        default:
            return record
        }
    }

    /// Writes a pending record (no segments, the settings) by compare-and-set on absence; an
    /// existing record with other settings fails with `alreadyExists`.
    public func shardRequested(_ shard: String, settings: ShardSettings) async throws -> ShardMetadata {
        let record = ShardMetadata(replicationFactor: settings.replicationFactor, segments: [], settings: settings)
        let result = try await client.compareAndSet(ShardMetadata.key(shard: shard), expect: .absent, value: record.encodedBytes)
        guard case .compareFailed(_, let current?) = result else { return record }
        let existing = try ShardMetadata(bytes: current.value)
        guard existing.settings == settings else { throw RPCError(.alreadyExists, "shard '\(shard)' exists with other settings") }
        return existing
    }

    public func shardDeleted(_ shard: String) async throws {
        _ = try await client.delete(ShardMetadata.key(shard: shard))
    }

    public func metadata(shard: String) async throws -> ShardMetadata? {
        guard let value = try await client.get(ShardMetadata.key(shard: shard)).keyValue?.value else { return nil }
        return try ShardMetadata(bytes: value)
    }
}
