import Logging
import NIOCore
import Shared

/// One replica of one placement segment on this node: its own ``SegmentLog`` (based at the
/// segment's base offset) driven by ``SegmentReplicaLeader`` or ``SegmentReplicaFollower``.
///
/// Every state change runs on the log's event loop (no lock, no `Task` per message): client
/// appends, pushes received, acks, local fsync completions and ticks are events of the state
/// machine; its actions are performed there (local appends go to the log's serial queue in
/// order, pushes go to the followers' ``JournalReplicationAPI`` as RPCs whose answers are fed
/// back). Readers never pass the high watermark.
public final class ReplicatedSegment: Sendable {
    /// The replica's role, fixed when it is opened.
    public enum Role: Sendable, Hashable {
        /// Orders appends and pushes them to `followers`.
        case leader(followers: [UInt64])
        /// Copies the leader's pushes.
        case follower(leader: UInt64)
    }

    struct State {
        var leader: SegmentReplicaLeader?
        var follower: SegmentReplicaFollower?
        var nextRequestID: UInt64 = 1
        var pending: [UInt64: EventLoopPromise<JournalAppendResponse>] = [:]
        var highWatermark: Int64
        var ticker: RepeatedTask?
        /// The seal offset once meta recorded the segment sealed.
        var sealedEnd: Int64?
        /// Tails waiting for the high watermark to move or the segment to be sealed.
        var waiters: [EventLoopPromise<Void>] = []

        /// Raises the high watermark and wakes the waiting tails.
        mutating func advance(to offset: Int64) {
            guard offset > highWatermark else { return }
            highWatermark = offset
            wake()
        }

        /// Wakes the waiting tails on their loop's next turn (never inside this state's access).
        mutating func wake() {
            let waiting = waiters
            waiters = []
            for waiter in waiting { waiter.futureResult.eventLoop.execute { waiter.succeed() } }
        }
    }

    /// The shard.
    public let shard: String
    /// The segment id (its index in the shard's meta record).
    public let segmentID: UInt64
    /// The segment's first offset.
    public let baseOffset: Int64
    /// This node's id.
    public let nodeID: UInt64
    /// The epoch the replica was opened with.
    public let epoch: Int32
    /// The role it was opened in.
    public let role: Role
    /// The shard's settings (the log's configuration comes from them).
    public let settings: ShardSettings
    /// The local log.
    public let log: SegmentLog
    let eventLoop: any EventLoop
    let peers: @Sendable (UInt64) -> (any RPCTransport)?
    let logger: Logger
    let state: NIOLoopBoundBox<State>

    /// Opens the replica over `log` (whose end must be `baseOffset` for a leader: a leader's
    /// in-memory state cannot be rebuilt, meta seals a segment whose leader restarted).
    /// `peers` gives the transport to another replica's node (nil while its address is unknown;
    /// pushes are then retried on later ticks). Call ``start(tickInterval:)`` to drive retransmits.
    public init(
        shard: String, segmentID: UInt64, baseOffset: Int64, nodeID: UInt64, epoch: Int32, role: Role, log: SegmentLog,
        settings: ShardSettings = ShardSettings(),
        leaderConfiguration: (SegmentReplicaLeaderConfiguration) -> SegmentReplicaLeaderConfiguration = { $0 },
        logger: Logger, peers: @escaping @Sendable (UInt64) -> (any RPCTransport)?
    ) throws {
        self.shard = shard
        self.segmentID = segmentID
        self.baseOffset = baseOffset
        self.nodeID = nodeID
        self.epoch = epoch
        self.role = role
        self.settings = settings
        self.log = log
        self.eventLoop = log.eventLoop
        self.peers = peers
        var logger = logger
        logger[metadataKey: "shard"] = "\(shard)"
        logger[metadataKey: "segment"] = "\(segmentID)"
        self.logger = logger
        var initial = State(highWatermark: baseOffset)
        switch role {
        case .leader(let followers):
            guard log.logEndOffset == baseOffset else {
                throw RPCError(.failedPrecondition, "segment \(segmentID) of '\(shard)' already holds data; a restarted leader cannot resume")
            }
            let configuration = leaderConfiguration(SegmentReplicaLeaderConfiguration(
                segmentID: segmentID, epoch: epoch, leaderID: nodeID, followers: followers, baseOffset: baseOffset))
            initial.leader = SegmentReplicaLeader(configuration: configuration)
        case .follower(let leader):
            initial.follower = SegmentReplicaFollower(
                segmentID: segmentID, replicaID: nodeID, epoch: epoch, leaderID: leader, logEnd: log.logEndOffset,
                highWatermark: baseOffset)
        }
        self.state = NIOLoopBoundBox.makeBoxSendingValue(initial, eventLoop: log.eventLoop)
    }

    /// Starts the retransmit/heartbeat ticks.
    public func start(tickInterval: TimeAmount = .milliseconds(50)) {
        eventLoop.execute {
            guard self.state.value.leader != nil, self.state.value.ticker == nil else { return }
            self.state.value.ticker = self.eventLoop.scheduleRepeatedTask(initialDelay: tickInterval, delay: tickInterval) { _ in
                self.leaderEvent(.tick)
            }
        }
    }

    /// Stops ticking, fails pending appends (`unavailable`) and closes the log.
    public func close() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            self.state.value.ticker?.cancel()
            self.state.value.ticker = nil
            let pending = self.state.value.pending
            self.state.value.pending = [:]
            self.state.value.wake()
            for promise in pending.values { promise.fail(RPCError(.unavailable, "segment replica of '\(self.shard)' closed")) }
            return self.log.close()
        }
    }

    /// Whether this replica leads its segment and has not been fenced.
    public var isLeading: EventLoopFuture<Bool> {
        eventLoop.submit { self.state.value.leader?.isLeading ?? false }
    }

    /// The high watermark (exclusive): what readers may see.
    public var highWatermark: EventLoopFuture<Int64> {
        eventLoop.submit { self.state.value.highWatermark }
    }

    // MARK: Leader

    /// Appends records (leader only); completes once durable on as many replicas as `policy`
    /// asks. Fails with `notLeader` on a follower or a fenced leader.
    public func append(records: [Record], policy: ReplicaAckPolicy) -> EventLoopFuture<JournalAppendResponse> {
        let promise = eventLoop.makePromise(of: JournalAppendResponse.self)
        eventLoop.execute {
            guard self.state.value.leader != nil else {
                promise.fail(RPCError(.notLeader, "this node does not lead segment \(self.segmentID) of '\(self.shard)'"))
                return
            }
            let id = self.state.value.nextRequestID
            self.state.value.nextRequestID += 1
            self.state.value.pending[id] = promise
            self.leaderEvent(.append(requestID: id, records: records, policy: policy))
        }
        return promise.futureResult
    }

    /// Feeds one event to the leader and performs its actions (on the event loop).
    func leaderEvent(_ event: SegmentReplicaLeader.Event) {
        eventLoop.assertInEventLoop()
        guard var leader = state.value.leader else { return }
        let actions = leader.handle(event)
        state.value.leader = leader
        for action in actions { perform(action) }
    }

    private func perform(_ action: SegmentReplicaLeader.Action) {
        switch action {
        case .appendLocally(let batch):
            log.appendReplicated(encoded: batch.bytes).hop(to: eventLoop).whenComplete { result in
                switch result {
                case .success(let appended):
                    self.leaderEvent(.localDurable(end: appended.lastOffset + 1))
                case .failure(let error):
                    self.logger.error("local append failed; the leader stops", metadata: ["error": "\(error)"])
                    self.leaderEvent(.fence(epoch: self.epoch))
                }
            }
        case .send(let follower, let push):
            guard let transport = peers(follower) else { return }
            let request = JournalReplicateRequest(shard: shard, message: .push(push))
            transport.callFuture(JournalReplicationAPI.replicate, request, options: RPCCallOptions(timeout: .seconds(5)))
                .hop(to: eventLoop).whenSuccess { reply in
                    switch reply {
                    case .ack(let ack): self.leaderEvent(.ack(ack))
                    case .reject(let reject): self.leaderEvent(.reject(reject))
                    default: break
                    }
                }
        case .appendSucceeded(let id, let base, let last):
            let promise = state.value.pending.removeValue(forKey: id)
            promise?.succeed(JournalAppendResponse(baseOffset: base, lastOffset: last))
        case .appendFailed(let id, let error):
            let code: RPCError.Code
            switch error {
            case .notLeader, .fenced: code = .notLeader
            case .invalidRecords: code = .invalidArgument
            }
            let promise = state.value.pending.removeValue(forKey: id)
            promise?.fail(RPCError(code, "append to '\(shard)': \(error)"))
        case .highWatermarkAdvanced(let offset):
            state.value.advance(to: offset)
        case .followerTooFarBehind(let follower):
            logger.warning("follower fell too far behind; the segment needs a seal", metadata: ["follower": "\(follower)"])
        }
    }
}

extension ReplicatedSegment {
    /// Meta recorded the segment as sealed at `end`: everything below it on this replica is
    /// acknowledged or kept by the seal, so readers may see it.
    public func markSealed(end: Int64) {
        eventLoop.execute {
            self.state.value.sealedEnd = end
            self.state.value.advance(to: min(end, self.log.logEndOffset))
            self.state.value.wake()
        }
    }
}
