@testable import JournalServer

/// The harness's meta: failure detection, fencing, sealing with ``SegmentSealPlanner``, repair,
/// and placing the next segment.
extension ReplicationSimulation {
    mutating func openSegment(base: Int64, epoch: Int32) {
        var live = nodes.filter(\.reachable).map(\.id)
        guard !live.isEmpty else { return }
        for index in stride(from: live.count - 1, to: 0, by: -1) {
            live.swapAt(index, random.int(0...index))
        }
        let replicas = Array(live.prefix(options.replicationFactor))
        let id = UInt64(segments.count + 1)
        var incarnations: [UInt64: Int] = [:]
        for replica in replicas { incarnations[replica] = nodes[index(replica)].incarnation }
        segments.append(SimSegment(id: id, base: base, epoch: epoch, replicas: replicas, incarnations: incarnations))
        let leaderID = replicas[0]
        for replica in replicas {
            let i = index(replica)
            nodes[i].stores[id] = SimSegmentStore(base: base)
            if replica == leaderID {
                let configuration = SegmentReplicaLeaderConfiguration(
                    segmentID: id, epoch: epoch, leaderID: leaderID, followers: Array(replicas.dropFirst()), baseOffset: base,
                    maxInFlightBytes: options.maxInFlightBytes, maxPushBytes: options.maxPushBytes, retransmitTicks: 4,
                    heartbeatTicks: 6, maxRetainedBytes: options.maxRetainedBytes)
                nodes[i].roles[id] = .leader(SegmentReplicaLeader(configuration: configuration))
            } else {
                nodes[i].roles[id] = .follower(
                    SegmentReplicaFollower(segmentID: id, replicaID: replica, epoch: epoch, leaderID: leaderID, logEnd: base, highWatermark: base))
            }
        }
    }

    mutating func metaStep() {
        guard var active = segments.last else { return }
        if let sealOffset = active.sealOffset {
            // A segment is sealed but no successor could be placed yet (no live node).
            if !finalSeal, let request = active.sealRequest {
                openSegment(base: sealOffset, epoch: request.newEpoch + 1)
            }
            return
        }
        if active.sealRequest == nil {
            let dead = active.replicas.contains { id in
                let node = nodes[index(id)]
                if node.incarnation != active.incarnations[id] { return true }
                if let since = node.downSince, now - since >= options.leaseSteps { return true }
                return false
            }
            var full = false
            if case .leader(let leader) = nodes[index(active.leader)].roles[active.id] {
                full = leader.logEnd - active.base >= options.rollRecords
            }
            guard dead || full || active.laggingReported || finalSeal else { return }
            guard let request = SegmentSealPlanner.sealRequest(segmentID: active.id, currentEpoch: active.epoch) else {
                fail("epochs exhausted")
                return
            }
            active.sealRequest = request
            segments[segments.count - 1] = active
        }
        trySeal()
    }

    /// Fences every reachable replica, collects durable ends, and seals if the planner agrees.
    mutating func trySeal() {
        guard var active = segments.last, let request = active.sealRequest else { return }
        var reports: [UInt64: Int64] = [:]
        for replica in active.replicas where nodes[index(replica)].reachable {
            reports[replica] = fenceAndReport(replica, segment: active, request: request)
        }
        let planner = SegmentSealPlanner(replicas: active.replicas, weakestPolicy: .quorum)
        guard case .seal(let plan) = planner.plan(reports: reports) else { return }
        for replica in plan.steps.keys.sorted() {
            let i = index(replica)
            guard var store = nodes[i].stores[active.id] else {
                fail("replica \(replica) has no log for segment \(active.id)")
                continue
            }
            // Writes not yet fsynced were not reported; the driver truncates to the seal and
            // refetches instead of waiting for them.
            store.truncate(to: store.durableEnd)
            switch plan.steps[replica] {
            case .fetch(let source, let range):
                guard let sourceStore = nodes[index(source)].stores[active.id] else { continue }
                for batch in sourceStore.batches where batch.baseOffset >= range.lowerBound && batch.endOffset <= range.upperBound {
                    if !store.append(batch) { fail("repair of \(replica) from \(source) is not contiguous at \(batch.baseOffset)") }
                }
            case .truncate(let offset):
                store.truncate(to: offset)
            case .keep, nil:
                break
            }
            store.sync()
            if store.end != plan.sealOffset || store.durableEnd != plan.sealOffset {
                fail("replica \(replica) ends at \(store.end) after repair, not at the seal \(plan.sealOffset)")
            }
            nodes[i].stores[active.id] = store
        }
        active.sealOffset = plan.sealOffset
        active.members = plan.steps.keys.sorted()
        segments[segments.count - 1] = active
        if !finalSeal {
            openSegment(base: plan.sealOffset, epoch: request.newEpoch + 1)
        }
    }

    /// Delivers meta's seal request to one replica's state machine and returns the durable end
    /// it reports. A replica without a role (it restarted) answers from its recovered log.
    mutating func fenceAndReport(_ replica: UInt64, segment: SimSegment, request: SegmentSealRequest) -> Int64? {
        let i = index(replica)
        guard let store = nodes[i].stores[segment.id] else { return nil }
        switch nodes[i].roles[segment.id] {
        case .leader(var leader):
            let actions = leader.handle(.fence(epoch: request.newEpoch))
            nodes[i].roles[segment.id] = .leader(leader)
            perform(actions, node: replica, segment: segment.id)
            if leader.localDurableEnd != store.durableEnd {
                fail("leader \(replica) durable end \(leader.localDurableEnd) differs from its log's \(store.durableEnd)")
            }
            return store.durableEnd
        case .follower(var follower):
            return reportFromFollower(&follower, replica: replica, segment: segment.id, request: request, store: store)
        case nil:
            var follower = SegmentReplicaFollower(
                segmentID: segment.id, replicaID: replica, epoch: segment.epoch, leaderID: nil, logEnd: store.end, highWatermark: segment.base)
            return reportFromFollower(&follower, replica: replica, segment: segment.id, request: request, store: store)
        }
    }

    private mutating func reportFromFollower(
        _ follower: inout SegmentReplicaFollower, replica: UInt64, segment: UInt64, request: SegmentSealRequest, store: SimSegmentStore
    ) -> Int64? {
        let actions = follower.handle(.seal(request))
        nodes[index(replica)].roles[segment] = .follower(follower)
        guard actions.count == 1, case .replySeal(let response) = actions[0] else {
            fail("follower \(replica) answered a seal request with \(actions)")
            return nil
        }
        if response.durableEnd != store.durableEnd || response.epoch != request.newEpoch {
            fail("follower \(replica) reported \(response) but its log is durable to \(store.durableEnd)")
        }
        return response.durableEnd
    }
}
