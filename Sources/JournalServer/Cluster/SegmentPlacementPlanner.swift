/// Chooses the nodes of a new segment: the least loaded live journal nodes, distinct, ties
/// broken by the lower node id (deterministic). IO-free.
///
/// A node's load is the number of unsealed segments it holds a replica of, over every shard
/// record given.
public struct SegmentPlacementPlanner: Sendable, Hashable {
    /// Unsealed segment replicas per live node (every live node has an entry, possibly 0).
    public private(set) var load: [UInt64: Int]

    /// A planner over `liveNodes`, counting the unsealed segments of `shards`.
    public init(liveNodes: some Sequence<UInt64>, shards: some Sequence<ShardMetadata>) {
        var load: [UInt64: Int] = [:]
        for node in liveNodes { load[node] = 0 }
        for shard in shards {
            for segment in shard.segments where !segment.sealed {
                for replica in Set(segment.replicas) where load[replica] != nil { load[replica, default: 0] += 1 }
            }
        }
        self.load = load
    }

    /// Up to `replicationFactor` distinct live nodes, least loaded first (the first is the
    /// leader), skipping `excluding`. Fewer when fewer live nodes qualify; empty when none do.
    public func place(replicationFactor: Int, excluding: Set<UInt64> = []) -> [UInt64] {
        let candidates = load.filter { !excluding.contains($0.key) }
            .sorted { $0.value != $1.value ? $0.value < $1.value : $0.key < $1.key }
        return Array(candidates.prefix(max(replicationFactor, 0)).map(\.key))
    }

    /// Records that `nodes` now hold one more unsealed segment (for placing several segments in a row).
    public mutating func assign(_ nodes: [UInt64]) {
        for node in Set(nodes) where load[node] != nil { load[node, default: 0] += 1 }
    }
}
