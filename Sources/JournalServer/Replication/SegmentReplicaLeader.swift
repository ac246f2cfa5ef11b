/// The leader's side of replicating one active segment, as an IO-free state machine: feed it an
/// ``Event``, perform the returned ``Action``s in order.
///
/// The leader assigns offsets to client appends, appends them locally (the driver writes them to
/// the segment's `SegmentLog` with `appendReplicated(encoded:)` and reports fsync completion with
/// ``Event/localDurable(end:)``), pushes them to every follower from that follower's acknowledged
/// offset under a per-follower in-flight byte budget, and acknowledges each append once it is
/// durable on as many replicas as its ``ReplicaAckPolicy`` asks. The high watermark is the end
/// offset durable on a majority of the replica set; readers never read past it.
///
/// Batches are kept in memory until every replica holds them durably, so a lagging follower is
/// served from memory (see docs/journal-replication.md for the bound this implies).
public struct SegmentReplicaLeader: Sendable {
    /// Something that happened to the leader.
    public enum Event: Sendable, Hashable {
        /// A client appends `records` (offsets are assigned here) with an ack policy.
        case append(requestID: UInt64, records: [Record], policy: ReplicaAckPolicy)
        /// The local log fsynced everything below `end`.
        case localDurable(end: Int64)
        /// A follower acknowledged durable progress.
        case ack(ReplicaAck)
        /// A follower refused a push.
        case reject(ReplicaReject)
        /// Time passed (drives retransmission and heartbeats).
        case tick
        /// Meta sealed the segment at `epoch`: stop leading, fail what is pending.
        case fence(epoch: Int32)
    }

    /// Something the driver must do.
    public enum Action: Sendable, Equatable {
        /// Append the batch to the local segment log (offsets already assigned).
        case appendLocally(ReplicatedBatch)
        /// Send a push to a follower.
        case send(to: UInt64, ReplicaPush)
        /// Acknowledge a client append: its records got `baseOffset...lastOffset`.
        case appendSucceeded(requestID: UInt64, baseOffset: Int64, lastOffset: Int64)
        /// Fail a client append (not acknowledged).
        case appendFailed(requestID: UInt64, ReplicaAppendError)
        /// The high watermark moved up to `offset` (exclusive): readers may read below it.
        case highWatermarkAdvanced(Int64)
        /// The leader no longer holds what this follower needs next (it fell more than
        /// `maxRetainedBytes` behind): report it to meta, which treats it like a dead replica and
        /// seals the segment. Emitted once per follower.
        case followerTooFarBehind(UInt64)
    }

    struct FollowerProgress: Sendable, Hashable {
        /// Durable end the follower acknowledged.
        var ackedEnd: Int64
        /// Next offset to push.
        var sentEnd: Int64
        /// Ticks since the follower last made progress or was sent something.
        var idleTicks = 0
        /// Reported with `followerTooFarBehind`; nothing more is sent to it.
        var cutOff = false
    }

    struct PendingAppend: Sendable, Hashable {
        var requestID: UInt64
        var baseOffset: Int64
        var lastOffset: Int64
        var policy: ReplicaAckPolicy
    }

    struct RetainedBatch: Sendable, Hashable {
        var batch: ReplicatedBatch
        /// Bytes of all retained-or-trimmed batches before this one since the segment base.
        var position: Int
    }

    /// The leader's settings.
    public let configuration: SegmentReplicaLeaderConfiguration
    /// The offset the next append gets.
    public private(set) var logEnd: Int64
    /// The local log's durable end.
    public private(set) var localDurableEnd: Int64
    /// The end of what a majority holds durably; readers stay below it.
    public internal(set) var highWatermark: Int64
    /// The epoch that fenced this leader, once fenced (by meta or by a follower).
    public private(set) var fencedBy: Int32?

    var followers: [UInt64: FollowerProgress]
    var pending: [PendingAppend] = []
    var retained: [RetainedBatch] = []
    /// Bytes of every batch ever appended (positions of trimmed batches stay valid).
    var appendedBytes = 0

    /// Starts leading an empty segment at `configuration.baseOffset`.
    public init(configuration: SegmentReplicaLeaderConfiguration) {
        self.configuration = configuration
        self.logEnd = configuration.baseOffset
        self.localDurableEnd = configuration.baseOffset
        self.highWatermark = configuration.baseOffset
        var followers: [UInt64: FollowerProgress] = [:]
        for id in configuration.followers {
            followers[id] = FollowerProgress(ackedEnd: configuration.baseOffset, sentEnd: configuration.baseOffset)
        }
        self.followers = followers
    }

    /// Whether the leader still accepts appends.
    public var isLeading: Bool { fencedBy == nil }

    /// The acknowledged durable end of a follower (nil for an unknown id).
    public func acknowledgedEnd(of follower: UInt64) -> Int64? { followers[follower]?.ackedEnd }

    /// Handles one event and returns what to do, in order.
    public mutating func handle(_ event: Event) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .append(let requestID, let records, let policy):
            append(requestID: requestID, records: records, policy: policy, into: &actions)
        case .localDurable(let end):
            // Tracked even when fenced: meta's seal report reads the local durable end.
            localDurableEnd = max(localDurableEnd, min(end, logEnd))
            if isLeading { progress(into: &actions) }
        case .ack(let ack):
            handleAck(ack, into: &actions)
        case .reject(let reject):
            handleReject(reject, into: &actions)
        case .tick:
            tick(into: &actions)
        case .fence(let epoch):
            fence(epoch: epoch, error: .notLeader, into: &actions)
        }
        return actions
    }

    private mutating func append(requestID: UInt64, records: [Record], policy: ReplicaAckPolicy, into actions: inout [Action]) {
        guard isLeading else {
            actions.append(.appendFailed(requestID: requestID, .notLeader))
            return
        }
        let batch: ReplicatedBatch
        do {
            batch = try ReplicatedBatch(records: records, baseOffset: logEnd, epoch: configuration.epoch)
        } catch {
            actions.append(.appendFailed(requestID: requestID, .invalidRecords(error)))
            return
        }
        retained.append(RetainedBatch(batch: batch, position: appendedBytes))
        appendedBytes += batch.sizeInBytes
        logEnd = batch.endOffset
        pending.append(PendingAppend(requestID: requestID, baseOffset: batch.baseOffset, lastOffset: batch.lastOffset, policy: policy))
        actions.append(.appendLocally(batch))
        for id in configuration.followers {
            pump(id, into: &actions)
        }
    }

    private mutating func handleAck(_ ack: ReplicaAck, into actions: inout [Action]) {
        guard isLeading, ack.segmentID == configuration.segmentID else { return }
        if ack.epoch > configuration.epoch {
            fence(epoch: ack.epoch, error: .fenced(epoch: ack.epoch), into: &actions)
            return
        }
        guard ack.epoch == configuration.epoch, var follower = followers[ack.replicaID] else { return }
        let durable = min(ack.durableEnd, logEnd)
        if durable > follower.ackedEnd {
            follower.ackedEnd = durable
            follower.idleTicks = 0
        }
        follower.sentEnd = max(follower.sentEnd, follower.ackedEnd)
        followers[ack.replicaID] = follower
        progress(into: &actions)
        pump(ack.replicaID, into: &actions)
    }

    private mutating func handleReject(_ reject: ReplicaReject, into actions: inout [Action]) {
        guard isLeading, reject.segmentID == configuration.segmentID else { return }
        if reject.epoch > configuration.epoch {
            fence(epoch: reject.epoch, error: .fenced(epoch: reject.epoch), into: &actions)
            return
        }
        guard reject.epoch == configuration.epoch, var follower = followers[reject.replicaID] else { return }
        switch reject.reason {
        case .staleEpoch:
            // A follower at our own epoch cannot find us stale; ignore a confused peer.
            return
        case .notContiguous(let end):
            // Rewind to where the follower is; never below what it acknowledged durably (a late
            // reject from before that ack would only cause a needless resend).
            follower.sentEnd = min(max(end, follower.ackedEnd), logEnd)
            follower.idleTicks = 0
            followers[reject.replicaID] = follower
            pump(reject.replicaID, into: &actions)
        }
    }

    private mutating func tick(into actions: inout [Action]) {
        guard isLeading else { return }
        for id in configuration.followers {
            guard var follower = followers[id] else { continue }
            follower.idleTicks += 1
            if follower.sentEnd > follower.ackedEnd, follower.idleTicks >= configuration.retransmitTicks {
                follower.sentEnd = follower.ackedEnd
                follower.idleTicks = 0
                followers[id] = follower
                pump(id, into: &actions)
            } else if follower.idleTicks >= configuration.heartbeatTicks {
                followers[id] = follower
                sendHeartbeat(id, into: &actions)
            } else {
                followers[id] = follower
            }
        }
    }

    private mutating func fence(epoch: Int32, error: ReplicaAppendError, into actions: inout [Action]) {
        guard isLeading else { return }
        fencedBy = epoch
        for append in pending {
            actions.append(.appendFailed(requestID: append.requestID, error))
        }
        pending.removeAll()
        retained.removeAll()
    }
}
