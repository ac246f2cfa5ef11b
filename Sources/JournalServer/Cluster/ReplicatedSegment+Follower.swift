import NIOCore
import Shared

extension ReplicatedSegment {
    /// Handles a leader's push (follower only) and answers once the pushed batches are durable
    /// here: an ack with the durable end, or a reject (`staleEpoch`, `notContiguous`). A fenced
    /// (sealed) follower answers with its newer epoch, which fences the old leader.
    public func receive(_ push: ReplicaPush) -> EventLoopFuture<ReplicationMessage> {
        eventLoop.flatSubmit {
            guard var follower = self.state.value.follower else {
                return self.eventLoop.makeFailedFuture(
                    RPCError(.failedPrecondition, "segment \(self.segmentID) of '\(self.shard)' is led here, not followed"))
            }
            let actions = follower.handle(.push(push))
            self.state.value.follower = follower
            var reply: ReplicationMessage?
            var lastAppend: EventLoopFuture<AppendResult>?
            for action in actions {
                switch action {
                case .truncate(let offset):
                    // Queued on the log before the appends that follow it.
                    _ = self.log.truncate(to: offset)
                case .appendLocally(let batch):
                    lastAppend = self.log.appendReplicated(encoded: batch.bytes)
                case .send(_, let message):
                    reply = message
                case .highWatermarkAdvanced(let offset):
                    self.state.value.advance(to: offset)
                case .replySeal:
                    break
                }
            }
            guard let lastAppend else { return self.eventLoop.makeSucceededFuture(reply ?? self.currentAck()) }
            return lastAppend.hop(to: self.eventLoop).map { appended in
                self.followerDurable(end: appended.lastOffset + 1) ?? self.currentAck()
            }
        }
    }

    /// Feeds a local fsync completion to the follower; returns the ack it sends, if any.
    private func followerDurable(end: Int64) -> ReplicationMessage? {
        guard var follower = state.value.follower else { return nil }
        let actions = follower.handle(.localDurable(end: end))
        state.value.follower = follower
        var reply: ReplicationMessage?
        for action in actions {
            switch action {
            case .send(_, let message): reply = message
            case .highWatermarkAdvanced(let offset): state.value.advance(to: offset)
            default: break
            }
        }
        return reply
    }

    /// The follower's current durable end at its current epoch (a newer epoch fences the leader).
    private func currentAck() -> ReplicationMessage {
        let follower = state.value.follower
        return .ack(ReplicaAck(
            segmentID: segmentID, epoch: follower?.epoch ?? epoch, replicaID: nodeID,
            durableEnd: follower?.durableEnd ?? log.logEndOffset))
    }

    /// Meta's seal request: fences this replica at `request.newEpoch` (a leader stops and fails
    /// its pending appends with `notLeader`; a follower refuses the old leader from now on) and
    /// reports the durable end.
    public func seal(_ request: SegmentSealRequest) -> EventLoopFuture<SegmentSealResponse> {
        eventLoop.flatSubmit {
            if self.state.value.leader != nil {
                self.leaderEvent(.fence(epoch: request.newEpoch))
                let durable = self.state.value.leader?.localDurableEnd ?? self.baseOffset
                return self.eventLoop.makeSucceededFuture(SegmentSealResponse(
                    segmentID: self.segmentID, replicaID: self.nodeID, epoch: request.newEpoch, durableEnd: durable))
            }
            guard var follower = self.state.value.follower else {
                return self.eventLoop.makeFailedFuture(RPCError(.failedPrecondition, "segment replica has no role"))
            }
            let actions = follower.handle(.seal(request))
            self.state.value.follower = follower
            for case .replySeal(let response) in actions {
                return self.eventLoop.makeSucceededFuture(response)
            }
            return self.eventLoop.makeSucceededFuture(SegmentSealResponse(
                segmentID: self.segmentID, replicaID: self.nodeID, epoch: follower.epoch, durableEnd: follower.durableEnd))
        }
    }

    /// Reads records from `offset` below the high watermark (whole batches, about `maxBytes`).
    /// An offset outside `[baseOffset, highWatermark]` fails with `failedPrecondition`.
    public func read(from offset: Int64, maxBytes: Int) -> EventLoopFuture<ShardReadResult> {
        eventLoop.flatSubmit {
            let end = self.state.value.highWatermark
            guard offset >= self.baseOffset, offset <= end else {
                return self.eventLoop.makeFailedFuture(RPCError(
                    .failedPrecondition, "offset \(offset) is outside [\(self.baseOffset), \(end)] of '\(self.shard)' on this replica"))
            }
            guard offset < end else {
                return self.eventLoop.makeSucceededFuture(
                    ShardReadResult(records: [], nextOffset: end, startOffset: self.baseOffset, endOffset: end))
            }
            return self.log.read(from: offset, maxBytes: max(maxBytes, 1)).flatMapThrowing { read in
                var records: [Record] = []
                for batch in try read.batches(maxBatchBytes: self.log.configuration.maxBatchBytes) {
                    records += batch.records.filter { $0.offset >= offset && $0.offset < end }
                }
                return ShardReadResult(records: records, nextOffset: min(read.nextOffset, end), startOffset: self.baseOffset, endOffset: end)
            }
        }
    }
}
