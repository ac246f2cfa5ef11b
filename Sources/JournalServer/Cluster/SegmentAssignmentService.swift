import Logging
import Synchronization
import Shared

/// A journal node's side of placement: follows the shard records (through a
/// ``JournalClusterClient``'s watches) and opens this node's replica of every segment meta
/// assigned to it — as leader of an unsealed segment it leads, as follower otherwise — and
/// marks replicas of sealed segments readable up to their seal offset.
public final class SegmentAssignmentService: Sendable {
    /// This node's id.
    public let nodeID: UInt64
    /// The node's segment replicas.
    public let replicas: ReplicatedSegmentStore
    /// The cluster view's source.
    public let cluster: JournalClusterClient
    let logger: Logger
    let refused = Mutex<Set<String>>([])

    /// Creates the service.
    public init(nodeID: UInt64, replicas: ReplicatedSegmentStore, cluster: JournalClusterClient, logger: Logger) {
        self.nodeID = nodeID
        self.replicas = replicas
        self.cluster = cluster
        self.logger = logger
    }

    /// Applies every view change until the task is cancelled.
    public func run() async {
        for await view in cluster.changes() {
            if Task.isCancelled { return }
            await apply(view)
        }
    }

    /// Opens the replicas `view` assigns to this node that are not open yet.
    public func apply(_ view: JournalClusterView) async {
        for (shard, record) in view.shards.sorted(by: { $0.key < $1.key }) {
            guard let settings = record.settings, record.state == .active else { continue }
            for (index, segment) in record.segments.enumerated() where segment.replicas.contains(nodeID) {
                let segmentID = UInt64(index)
                let sealedEnd = index + 1 < record.segments.count ? record.segments[index + 1].baseOffset : nil
                if let open = replicas.replica(shard: shard, segmentID: segmentID) {
                    if let sealedEnd { open.markSealed(end: sealedEnd) }
                    continue
                }
                let key = "\(shard)/\(segmentID)"
                if refused.withLock({ $0.contains(key) }) { continue }
                let leads = !segment.sealed && sealedEnd == nil && segment.leader == nodeID
                let role: ReplicatedSegment.Role =
                    leads ? .leader(followers: segment.replicas.filter { $0 != nodeID }) : .follower(leader: segment.leader)
                do {
                    let replica = try await replicas.open(
                        shard: shard, segmentID: segmentID, baseOffset: segment.baseOffset,
                        epoch: Int32(clamping: segment.epoch), role: role, settings: settings)
                    if let sealedEnd { replica.markSealed(end: sealedEnd) }
                    logger.info("opened segment replica", metadata: [
                        "shard": "\(shard)", "segment": "\(segmentID)", "base": "\(segment.baseOffset)", "leader": "\(leads)",
                        "epoch": "\(segment.epoch)",
                    ])
                } catch {
                    logger.warning("cannot open segment replica", metadata: ["shard": "\(shard)", "segment": "\(segmentID)", "error": "\(error)"])
                    guard leads else {
                        refused.withLock { _ = $0.insert(key) }
                        continue
                    }
                    // A restarted leader cannot resume its segment (its in-memory state is gone),
                    // and its lease may not have expired: it seals the segment itself.
                    let sealed = (try? await SegmentController(nodeID: nodeID, cluster: cluster, logger: logger).seal(shard: shard)) ?? false
                    if sealed { refused.withLock { _ = $0.insert(key) } }
                }
            }
        }
    }
}
