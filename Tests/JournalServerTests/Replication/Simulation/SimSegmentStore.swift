@testable import JournalServer

/// One node's local log of one segment in the simulation: batches handed to the log, of which
/// the first `durableCount` are fsynced (a crash keeps only those).
struct SimSegmentStore {
    let base: Int64
    var batches: [ReplicatedBatch] = []
    var durableCount = 0

    var end: Int64 { batches.last?.endOffset ?? base }
    var durableEnd: Int64 { durableCount == 0 ? base : batches[durableCount - 1].endOffset }

    /// Appends a batch that must continue the log (as `SegmentLog.appendReplicated` demands).
    mutating func append(_ batch: ReplicatedBatch) -> Bool {
        guard batch.baseOffset == end else { return false }
        batches.append(batch)
        return true
    }

    /// Drops every batch holding an offset at or after `offset` (whole batches).
    mutating func truncate(to offset: Int64) {
        while let last = batches.last, last.endOffset > offset {
            batches.removeLast()
        }
        durableCount = min(durableCount, batches.count)
    }

    mutating func sync() { durableCount = batches.count }

    /// Power loss: what was not fsynced is gone.
    mutating func crash() { batches.removeLast(batches.count - durableCount) }
}

/// What meta knows about one segment of the shard.
struct SimSegment {
    let id: UInt64
    let base: Int64
    let epoch: Int32
    let replicas: [UInt64]
    /// Each replica's incarnation when the segment was placed (a restart means it died).
    let incarnations: [UInt64: Int]
    /// The leader reported a follower too far behind (meta seals as for a dead replica).
    var laggingReported = false
    /// The fencing epoch once meta started sealing.
    var sealRequest: SegmentSealRequest?
    var sealOffset: Int64?
    /// Replicas that hold `base..<sealOffset` durably after the repair.
    var members: [UInt64] = []

    var isSealed: Bool { sealOffset != nil }
    var leader: UInt64 { replicas[0] }
}

/// A node's replication role for one segment.
enum SimRole {
    case leader(SegmentReplicaLeader)
    case follower(SegmentReplicaFollower)
}

/// One simulated journal node.
struct SimNode {
    let id: UInt64
    var alive = true
    var isolated = false
    var incarnation = 0
    /// Slow disk: fsyncs complete rarely.
    var slow = false
    /// The step since which the node has been unreachable (crashed or isolated).
    var downSince: Int?
    var stores: [UInt64: SimSegmentStore] = [:]
    var roles: [UInt64: SimRole] = [:]

    var reachable: Bool { alive && !isolated }
}
