import MetaService
import Shared

/// What a ``JournalClusterClient`` knows of the cluster: every shard record
/// (`/journal/shards/<name>`) and every registered journal node's address
/// (`/nodes/journal/<id>`), kept current by applying meta watch events. IO-free.
public struct JournalClusterView: Sendable, Hashable {
    /// The meta key prefix of journal node registrations.
    public static let nodePrefix = "/nodes/journal/"

    /// Shard records by name (records that fail to decode are left out).
    public var shards: [String: ShardMetadata] = [:]
    /// Registered journal nodes: id → RPC address.
    public var nodes: [UInt64: String] = [:]

    /// An empty view.
    public init() {}

    /// The node id in a registration key, or `nil` if `key` is not one.
    public static func nodeID(key: String) -> UInt64? {
        guard key.hasPrefix(nodePrefix) else { return nil }
        return UInt64(key.dropFirst(nodePrefix.count))
    }

    /// The shard name in a shard record key, or `nil` if `key` is not one.
    public static func shardName(key: String) -> String? {
        guard key.hasPrefix(ShardMetadata.keyPrefix), key.count > ShardMetadata.keyPrefix.count else { return nil }
        return String(key.dropFirst(ShardMetadata.keyPrefix.count))
    }

    /// Replaces everything under `prefix` (a shard or node prefix) with `keyValues` (a range read).
    public mutating func replace(prefix: String, with keyValues: [MetaKeyValue]) {
        if prefix == Self.nodePrefix { nodes = [:] } else if prefix == ShardMetadata.keyPrefix { shards = [:] }
        for keyValue in keyValues { put(keyValue) }
    }

    /// Applies one watch event.
    public mutating func apply(_ event: WatchEvent) {
        switch event.kind {
        case .put: put(event.keyValue)
        case .delete: remove(key: event.keyValue.key)
        }
    }

    /// Sets the shard record or node registration stored at `keyValue.key`.
    public mutating func put(_ keyValue: MetaKeyValue) {
        if let id = Self.nodeID(key: keyValue.key) {
            // A `NodeRecord` (registrations since the meta controller); a plain address before.
            nodes[id] = (try? NodeRecord(keyValue: keyValue))?.address ?? String(decoding: keyValue.value, as: UTF8.self)
        } else if let name = Self.shardName(key: keyValue.key) {
            shards[name] = try? ShardMetadata(bytes: keyValue.value)
        }
    }

    /// Forgets the shard record or node registration at `key`.
    public mutating func remove(key: String) {
        if let id = Self.nodeID(key: key) {
            nodes[id] = nil
        } else if let name = Self.shardName(key: key) {
            shards[name] = nil
        }
    }

    /// The nodes to send an append of `shard` to: the leader of its active (last, unsealed)
    /// segment. Empty when the shard has no open segment yet (pending placement).
    public func appendTargets(shard: String) -> [UInt64] {
        guard let segment = shards[shard]?.activeSegment else { return [] }
        return [segment.leader]
    }

    /// The nodes that can serve a read of `shard` at `offset`: the replicas of the segment
    /// holding it (of the last segment for `nil`), its leader first.
    public func readTargets(shard: String, offset: Int64?) -> [UInt64] {
        guard let record = shards[shard] else { return [] }
        let segment = offset.map { record.segment(containing: $0) } ?? record.segments.last
        guard let segment else { return [] }
        return [segment.leader] + segment.replicas.filter { $0 != segment.leader }
    }
}
