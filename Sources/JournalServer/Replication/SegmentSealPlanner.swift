/// Meta's rule for sealing a segment whose replica set lost a member: which offset to seal at so
/// that every acknowledged record (and everything a reader saw) is kept, how many replicas must
/// report first, how the survivors are repaired, and the fencing epoch.
///
/// The rule. A record acknowledged under a policy needing `w` replicas is durable on at least `w`
/// of the `n` replicas; a record below the high watermark is durable on a majority. Let
/// `k = min(w, majority(n))` over the policies the segment accepted. Any `n - k + 1` replicas
/// intersect every set of `k` replicas, so once that many replicas are fenced (they stop acking
/// the old leader) and have reported their durable ends, every acknowledged or visible record
/// lies below the maximum reported end. Sealing there keeps them all; anything beyond it was
/// never acknowledged and never visible (it is on fewer than `k` replicas). For `quorum` with
/// three replicas and one dead: the two survivors must both report and the seal offset is the
/// larger of their ends; the one behind copies the difference from the other before the segment
/// counts as sealed. `all` does not lower the requirement because the high watermark is
/// majority-based; `leader` acknowledgements need every replica to report, so a dead leader can
/// only be sealed with ``plan(reports:allowLoss:)``'s `allowLoss`, which may drop records
/// acknowledged under `leader`.
public struct SegmentSealPlanner: Sendable, Hashable {
    /// The replica set of the segment, leader included.
    public let replicas: [UInt64]
    /// The weakest ack policy the segment's leader accepted.
    public let weakestPolicy: ReplicaAckPolicy

    /// Creates a planner.
    public init(replicas: [UInt64], weakestPolicy: ReplicaAckPolicy = .quorum) {
        self.replicas = replicas
        self.weakestPolicy = weakestPolicy
    }

    /// How many fenced replicas must report before the seal offset is safe.
    public var reportsNeeded: Int {
        let n = replicas.count
        let k = min(weakestPolicy.requiredReplicas(replicationFactor: n), ReplicaAckPolicy.majority(of: n))
        return n - k + 1
    }

    /// The fencing request for a segment currently at `epoch`: meta records the new epoch with
    /// the segment before sending it, and the next segment's leader gets a still higher one.
    /// `nil` if epochs are exhausted.
    public static func sealRequest(segmentID: UInt64, currentEpoch epoch: Int32) -> SegmentSealRequest? {
        guard epoch < Int32.max else { return nil }
        return SegmentSealRequest(segmentID: segmentID, newEpoch: epoch + 1)
    }

    /// Decides from the durable ends reported by fenced replicas (reports from nodes outside the
    /// replica set are ignored).
    ///
    /// - Parameter allowLoss: seal with fewer reports than needed (operator override when too
    ///   many replicas are gone); records acknowledged by replicas that did not report may be lost.
    public func plan(reports: [UInt64: Int64], allowLoss: Bool = false) -> SegmentSealDecision {
        let known = replicas.compactMap { id in reports[id].map { (id, $0) } }
        guard !known.isEmpty, known.count >= reportsNeeded || allowLoss else {
            return .waitForReports(have: known.count, need: reportsNeeded)
        }
        // Highest end; ties go to the first in replica order, so plans are deterministic.
        var source = known[0]
        for entry in known.dropFirst() where entry.1 > source.1 {
            source = entry
        }
        let sealOffset = source.1
        var steps: [UInt64: SegmentSealPlan.RepairStep] = [:]
        for (id, end) in known {
            if end < sealOffset {
                steps[id] = .fetch(from: source.0, range: end..<sealOffset)
            } else {
                steps[id] = .keep
            }
        }
        return .seal(SegmentSealPlan(sealOffset: sealOffset, source: source.0, steps: steps))
    }

    /// What a replica that reports only after the seal (it was slow, partitioned or restarted)
    /// must do to join the sealed segment: drop what lies beyond the seal (never acknowledged),
    /// then fetch what it lacks.
    public static func repair(replicaEnd: Int64, plan: SegmentSealPlan) -> [SegmentSealPlan.RepairStep] {
        if replicaEnd > plan.sealOffset { return [.truncate(to: plan.sealOffset)] }
        if replicaEnd < plan.sealOffset { return [.fetch(from: plan.source, range: replicaEnd..<plan.sealOffset)] }
        return [.keep]
    }
}

/// The planner's answer.
public enum SegmentSealDecision: Sendable, Hashable {
    /// Not enough fenced replicas reported yet.
    case waitForReports(have: Int, need: Int)
    /// Seal as planned.
    case seal(SegmentSealPlan)
}
