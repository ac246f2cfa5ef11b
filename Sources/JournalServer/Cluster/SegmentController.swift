import Logging
import MetaService
import NIOCore
import Shared

/// Places and fails over replicated shards' segments, acting on the shard records in meta by
/// compare-and-set on their exact value (so concurrent controllers never both win):
///
/// - a **pending** shard (record without segments) gets its first segment on the least loaded
///   live journal nodes (``SegmentPlacementPlanner``), leader first, epoch 1;
/// - an **active segment with a replica whose registration is gone** (lease expired: the
///   node died) is sealed: epoch bumped in the record, the live replicas fenced with
///   `journal.sealSegment` and their durable ends collected, ``SegmentSealPlanner`` decides the
///   seal offset, and the segment is recorded sealed there (with the replicas that hold it all)
///   together with the next segment on live nodes at epoch + 2.
///
/// Every journal node runs one; only the live node with the lowest id acts (``run()``), and a
/// node that cannot resume leading a segment after a restart seals it itself (``seal(shard:)``).
public struct SegmentController: Sendable {
    /// This node's id.
    public let nodeID: UInt64
    /// The cluster (meta and node connections).
    public let cluster: JournalClusterClient
    let logger: Logger

    /// Creates a controller.
    public init(nodeID: UInt64, cluster: JournalClusterClient, logger: Logger) {
        self.nodeID = nodeID
        self.cluster = cluster
        self.logger = logger
    }

    /// Reconciles on every view change (and again shortly after an attempt that could not
    /// finish) until the task is cancelled.
    public func run() async {
        var changes = cluster.changes().makeAsyncIterator()
        var view = cluster.view
        while !Task.isCancelled {
            let unfinished = view.nodes.keys.min() == nodeID ? await reconcile(view) : false
            if unfinished {
                try? await Task.sleep(nanoseconds: 200_000_000)
                view = cluster.view
            } else {
                guard let next = await changes.next() else { return }
                view = next
            }
        }
    }

    /// One pass over `view`; returns whether some shard still needs work.
    public func reconcile(_ view: JournalClusterView) async -> Bool {
        var unfinished = false
        for (shard, record) in view.shards.sorted(by: { $0.key < $1.key }) where record.settings != nil && record.state == .active {
            do {
                if record.segments.isEmpty {
                    unfinished = try await !place(shard: shard, record: record, view: view) || unfinished
                } else if let active = record.activeSegment, active.replicas.contains(where: { view.nodes[$0] == nil }) {
                    unfinished = try await !seal(shard: shard, record: record, view: view) || unfinished
                }
            } catch {
                unfinished = true
                logger.warning("segment controller step failed", metadata: ["shard": "\(shard)", "error": "\(error)"])
            }
        }
        return unfinished
    }

    /// Places a pending shard's first segment; false if no live node.
    func place(shard: String, record: ShardMetadata, view: JournalClusterView) async throws -> Bool {
        let planner = SegmentPlacementPlanner(liveNodes: view.nodes.keys, shards: view.shards.values)
        let nodes = planner.place(replicationFactor: record.replicationFactor)
        guard let leader = nodes.first else { return false }
        var placed = record
        placed.segments = [.init(baseOffset: 0, replicas: nodes, leader: leader, epoch: 1)]
        if try await write(shard: shard, expect: record, record: placed) {
            logger.info("placed shard", metadata: ["shard": "\(shard)", "replicas": "\(nodes)"])
        }
        return true
    }

    /// Seals `shard`'s active segment as it is in meta now, and opens the next; false when too
    /// few replicas reported (try again later).
    public func seal(shard: String) async throws -> Bool {
        let record = try await cluster.metadata(shard: shard)
        guard record.activeSegment != nil else { return true }
        return try await seal(shard: shard, record: record, view: cluster.view)
    }

    func seal(shard: String, record: ShardMetadata, view: JournalClusterView) async throws -> Bool {
        let index = record.segments.count - 1
        let segment = record.segments[index]
        guard let request = SegmentSealPlanner.sealRequest(segmentID: UInt64(index), currentEpoch: Int32(clamping: segment.epoch)) else {
            logger.error("segment epochs exhausted", metadata: ["shard": "\(shard)"])
            return true
        }
        // 1. The new epoch is recorded before any replica is fenced with it.
        var bumped = record
        bumped.segments[index].epoch = UInt64(request.newEpoch)
        guard try await write(shard: shard, expect: record, record: bumped) else { return true }
        // 2. Fence the reachable replicas and collect their durable ends.
        var reports: [UInt64: Int64] = [:]
        for replica in segment.replicas {
            guard let transport = cluster.transport(toNode: replica) else { continue }
            do {
                let reply = try await transport.call(
                    JournalReplicationAPI.seal, JournalReplicateRequest(shard: shard, message: .sealRequest(request)),
                    options: RPCCallOptions(timeout: cluster.options.attemptTimeout))
                if case .sealResponse(let response) = reply { reports[replica] = response.durableEnd }
            } catch {
                logger.info("replica did not answer the seal", metadata: ["shard": "\(shard)", "replica": "\(replica)", "error": "\(error)"])
            }
        }
        // 3. Decide.
        guard case .seal(let plan) = SegmentSealPlanner(replicas: segment.replicas).plan(reports: reports) else {
            logger.warning("too few replicas reported to seal", metadata: ["shard": "\(shard)", "reports": "\(reports)"])
            return false
        }
        // 4. Record the seal and the next segment.
        var sealed = bumped
        sealed.segments[index].sealed = true
        sealed.segments[index].replicas = segment.replicas.filter { reports[$0] == plan.sealOffset }
        sealed.segments[index].leader = plan.source
        // The seal and the next segment are recorded together; with no live node for the next
        // one nothing is recorded and the seal is redone (with a new epoch) on a later pass.
        guard let next = nextSegment(record: sealed, base: plan.sealOffset, epoch: UInt64(request.newEpoch) + 1, view: view) else {
            return false
        }
        sealed.segments.append(next)
        if try await write(shard: shard, expect: bumped, record: sealed) {
            logger.info("sealed segment and opened the next", metadata: [
                "shard": "\(shard)", "segment": "\(index)", "sealOffset": "\(plan.sealOffset)", "next": "\(next.replicas)",
                "epoch": "\(next.epoch)",
            ])
        }
        return true
    }

    func nextSegment(record: ShardMetadata, base: Int64, epoch: UInt64, view: JournalClusterView) -> ShardMetadata.Segment? {
        let planner = SegmentPlacementPlanner(liveNodes: view.nodes.keys, shards: view.shards.values)
        let nodes = planner.place(replicationFactor: record.replicationFactor)
        guard let leader = nodes.first else { return nil }
        return .init(baseOffset: base, replicas: nodes, leader: leader, epoch: epoch)
    }

    /// Compare-and-set of the shard record on its exact previous value; false if it changed.
    func write(shard: String, expect: ShardMetadata, record: ShardMetadata) async throws -> Bool {
        let result = try await cluster.meta.compareAndSet(
            ShardMetadata.key(shard: shard), expect: .value(expect.encodedBytes), value: record.encodedBytes)
        switch result {
        case .written: return true
        default: return false
        }
    }
}
