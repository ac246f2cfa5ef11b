import PropertyBased
import Testing

@testable import JournalServer

/// The seal rule: enough fenced replicas report, the seal offset keeps every acknowledged record.
@Suite struct SegmentSealPlannerTests {
    @Test func quorumOfThreeWithOneDeadNeedsBothSurvivorsAndSealsAtTheirMaximum() {
        let planner = SegmentSealPlanner(replicas: [1, 2, 3], weakestPolicy: .quorum)
        #expect(planner.reportsNeeded == 2)
        #expect(planner.plan(reports: [2: 40]) == .waitForReports(have: 1, need: 2))
        #expect(planner.plan(reports: [2: 40, 3: 55]) == .seal(SegmentSealPlan(
            sealOffset: 55, source: 3, steps: [2: .fetch(from: 3, range: 40..<55), 3: .keep])))
    }

    @Test func reportsFromOutsideTheReplicaSetDoNotCount() {
        let planner = SegmentSealPlanner(replicas: [1, 2, 3])
        #expect(planner.plan(reports: [2: 40, 9: 100]) == .waitForReports(have: 1, need: 2))
    }

    @Test func reportsNeededPerPolicyAndReplicationFactor() {
        #expect(SegmentSealPlanner(replicas: [1, 2, 3, 4, 5], weakestPolicy: .quorum).reportsNeeded == 3)
        // `all` does not lower the requirement: the high watermark is majority-based.
        #expect(SegmentSealPlanner(replicas: [1, 2, 3], weakestPolicy: .all).reportsNeeded == 2)
        #expect(SegmentSealPlanner(replicas: [1, 2, 3], weakestPolicy: .leader).reportsNeeded == 3)
        #expect(SegmentSealPlanner(replicas: [1], weakestPolicy: .quorum).reportsNeeded == 1)
        #expect(SegmentSealPlanner(replicas: [1, 2], weakestPolicy: .quorum).reportsNeeded == 1)
    }

    @Test func leaderPolicyNeedsEveryReplicaUnlessLossIsAllowed() {
        let planner = SegmentSealPlanner(replicas: [1, 2, 3], weakestPolicy: .leader)
        #expect(planner.plan(reports: [2: 10, 3: 12]) == .waitForReports(have: 2, need: 3))
        #expect(planner.plan(reports: [2: 10, 3: 12], allowLoss: true) == .seal(SegmentSealPlan(
            sealOffset: 12, source: 3, steps: [2: .fetch(from: 3, range: 10..<12), 3: .keep])))
        #expect(planner.plan(reports: [:], allowLoss: true) == .waitForReports(have: 0, need: 3))
    }

    @Test func lateReplicasTruncateOrFetch() {
        let plan = SegmentSealPlan(sealOffset: 20, source: 2, steps: [:])
        #expect(SegmentSealPlanner.repair(replicaEnd: 25, plan: plan) == [.truncate(to: 20)])
        #expect(SegmentSealPlanner.repair(replicaEnd: 12, plan: plan) == [.fetch(from: 2, range: 12..<20)])
        #expect(SegmentSealPlanner.repair(replicaEnd: 20, plan: plan) == [.keep])
    }

    @Test func sealRequestBumpsTheEpoch() {
        #expect(SegmentSealPlanner.sealRequest(segmentID: 4, currentEpoch: 7) == SegmentSealRequest(segmentID: 4, newEpoch: 8))
        #expect(SegmentSealPlanner.sealRequest(segmentID: 4, currentEpoch: .max) == nil)
    }

    /// For any replica set, any acknowledged offset held by at least `required` replicas, and any
    /// set of dead replicas small enough that the planner can seal, the seal offset keeps the
    /// acknowledged offset.
    @Test func sealNeverDropsAnAcknowledgedRecord() async {
        await propertyCheck(input: Gen.int(in: 1...7), Gen.int64(in: 0...50).array(of: 7), Gen.int(in: 0...2), Gen.uint64()) {
            size, rawEnds, policyIndex, shuffle in
            let policy = ReplicaAckPolicy.allCases[policyIndex]
            let replicas = (1...size).map { UInt64($0) }
            let ends = Array(rawEnds.prefix(size))
            // The highest offset acknowledged under the policy and visible under the majority HW.
            let sorted = ends.sorted(by: >)
            let k = min(policy.requiredReplicas(replicationFactor: size), ReplicaAckPolicy.majority(of: size))
            let acknowledgedEnd = sorted[k - 1]
            let planner = SegmentSealPlanner(replicas: replicas, weakestPolicy: policy)
            // Any `reportsNeeded` replicas report (the others are dead or slow).
            var order = replicas
            var state = shuffle
            for index in stride(from: order.count - 1, to: 0, by: -1) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                order.swapAt(index, Int(state >> 33) % (index + 1))
            }
            var reports: [UInt64: Int64] = [:]
            for id in order.prefix(planner.reportsNeeded) { reports[id] = ends[Int(id) - 1] }
            guard case .seal(let plan) = planner.plan(reports: reports) else {
                Issue.record("no seal with \(reports.count) reports")
                return
            }
            #expect(plan.sealOffset >= acknowledgedEnd)
            #expect(plan.sealOffset == reports.values.max())
            #expect(reports[plan.source] == plan.sealOffset)
        }
    }
}
