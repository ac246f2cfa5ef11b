/// A follower's side of replicating one segment, as an IO-free state machine.
///
/// It accepts pushes only from the current epoch's leader (older epochs are refused with
/// ``ReplicaRejectReason/staleEpoch``), appends batches only where they continue its log
/// (otherwise it replies with its end so the leader rewinds), drops a tail written under an
/// earlier epoch when a newer leader's epoch starts below it, and acknowledges only what its
/// local log has fsynced. A seal request fences it at a new epoch: from then on it refuses the
/// old leader and sends no acks, and it reports its durable end to meta.
public struct SegmentReplicaFollower: Sendable {
    /// Something that happened to the follower.
    public enum Event: Sendable, Hashable {
        /// A push arrived.
        case push(ReplicaPush)
        /// The local log fsynced everything below `end`.
        case localDurable(end: Int64)
        /// Meta asks the replica to fence itself and report its durable end.
        case seal(SegmentSealRequest)
    }

    /// Something the driver must do.
    public enum Action: Sendable, Hashable {
        /// Append the batch to the local segment log, keeping its offsets.
        case appendLocally(ReplicatedBatch)
        /// Truncate the local segment log to `offset` (drop every offset at or after it).
        case truncate(to: Int64)
        /// Send a message to a node (acks and rejects to the leader).
        case send(to: UInt64, ReplicationMessage)
        /// Answer meta's seal request.
        case replySeal(SegmentSealResponse)
        /// The follower's readable end moved up (the leader's high watermark, capped at what is
        /// held here).
        case highWatermarkAdvanced(Int64)
    }

    /// The segment.
    public let segmentID: UInt64
    /// This node's id.
    public let replicaID: UInt64
    /// The highest epoch seen (from a leader's push or meta's seal request).
    public private(set) var epoch: Int32
    /// The leader of `epoch`, once known.
    public private(set) var leaderID: UInt64?
    /// The end of what was handed to the local log (maybe not yet durable).
    public private(set) var writtenEnd: Int64
    /// The end of what the local log fsynced.
    public private(set) var durableEnd: Int64
    /// Readers stay below this.
    public private(set) var highWatermark: Int64
    /// Whether meta fenced this replica for sealing.
    public private(set) var isSealed = false
    /// The durable end last acknowledged to the leader.
    var ackedEnd: Int64

    /// Creates a follower over a local log that ends (durably, after recovery) at `logEnd`, with
    /// the last high watermark it knew (capped at `logEnd`; a restarted replica passes 0 or its
    /// segment base and learns the watermark from the next push).
    ///
    /// - Parameters:
    ///   - epoch: the highest epoch this replica adopted for the segment (persisted with it; meta's
    ///     record of the segment for a fresh replica). Starting a recovered replica with an older
    ///     epoch would make it drop, on the next push, data it may already have acknowledged.
    ///     Meta treats a restarted replica of the active segment as dead, so in practice a
    ///     restarted replica only answers seal requests.
    ///   - leaderID: the epoch's leader, if known.
    public init(segmentID: UInt64, replicaID: UInt64, epoch: Int32, leaderID: UInt64?, logEnd: Int64, highWatermark: Int64 = 0) {
        self.segmentID = segmentID
        self.replicaID = replicaID
        self.epoch = epoch
        self.leaderID = leaderID
        self.writtenEnd = logEnd
        self.durableEnd = logEnd
        self.ackedEnd = logEnd
        self.highWatermark = min(highWatermark, logEnd)
    }

    /// Handles one event and returns what to do, in order.
    public mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .push(let push): return handlePush(push)
        case .localDurable(let end): return handleDurable(end)
        case .seal(let request): return handleSeal(request)
        }
    }

    private mutating func handlePush(_ push: ReplicaPush) -> [Action] {
        guard push.segmentID == segmentID else { return [] }
        var actions: [Action] = []
        if push.epoch < epoch || (push.epoch == epoch && (isSealed || (leaderID.map { $0 != push.leaderID } ?? false))) {
            let reject = ReplicaReject(segmentID: segmentID, epoch: epoch, replicaID: replicaID, reason: .staleEpoch)
            return [.send(to: push.leaderID, .reject(reject))]
        }
        if push.epoch == epoch, leaderID == nil {
            // Same epoch, leader not known yet (a replica recreated from meta's record): our
            // data came from this very leader, keep it.
            leaderID = push.leaderID
        } else if push.epoch > epoch {
            epoch = push.epoch
            leaderID = push.leaderID
            isSealed = false
            if writtenEnd > push.epochStartOffset {
                // Our tail beyond the new epoch's start was written under an older epoch and the
                // new leader does not have it.
                writtenEnd = push.epochStartOffset
                durableEnd = min(durableEnd, writtenEnd)
                ackedEnd = min(ackedEnd, writtenEnd)
                highWatermark = min(highWatermark, writtenEnd)
                actions.append(.truncate(to: writtenEnd))
            }
        }
        var appended = false
        var gap = false
        for batch in push.batches where batch.endOffset > writtenEnd {
            guard batch.baseOffset == writtenEnd else {
                gap = true
                break
            }
            actions.append(.appendLocally(batch))
            writtenEnd = batch.endOffset
            appended = true
        }
        let readable = min(push.highWatermark, writtenEnd)
        if readable > highWatermark {
            highWatermark = readable
            actions.append(.highWatermarkAdvanced(readable))
        }
        if gap {
            let reject = ReplicaReject(segmentID: segmentID, epoch: epoch, replicaID: replicaID, reason: .notContiguous(end: writtenEnd))
            actions.append(.send(to: push.leaderID, .reject(reject)))
        } else if !appended {
            // Nothing new (heartbeat or duplicate): report where we are right away.
            actions.append(.send(to: push.leaderID, .ack(makeAck())))
            ackedEnd = durableEnd
        }
        return actions
    }

    private mutating func handleDurable(_ end: Int64) -> [Action] {
        let durable = min(end, writtenEnd)
        guard durable > durableEnd else { return [] }
        durableEnd = durable
        guard !isSealed, let leaderID, durableEnd > ackedEnd else { return [] }
        ackedEnd = durableEnd
        return [.send(to: leaderID, .ack(makeAck()))]
    }

    private mutating func handleSeal(_ request: SegmentSealRequest) -> [Action] {
        guard request.segmentID == segmentID else { return [] }
        if request.newEpoch > epoch {
            epoch = request.newEpoch
            leaderID = nil
            isSealed = true
        } else if request.newEpoch == epoch {
            isSealed = true
        }
        return [.replySeal(SegmentSealResponse(segmentID: segmentID, replicaID: replicaID, epoch: epoch, durableEnd: durableEnd))]
    }

    private func makeAck() -> ReplicaAck {
        ReplicaAck(segmentID: segmentID, epoch: epoch, replicaID: replicaID, durableEnd: durableEnd)
    }
}
