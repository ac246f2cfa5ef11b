extension SegmentReplicaLeader {
    /// Durable ends of every replica, leader first.
    var durableEnds: [Int64] {
        [localDurableEnd] + configuration.followers.compactMap { followers[$0]?.ackedEnd }
    }

    /// Recomputes the high watermark, completes appends whose policy is met, drops batches every
    /// replica holds (followers learn the watermark from the next push or heartbeat).
    mutating func progress(into actions: inout [Action]) {
        let ends = durableEnds.sorted(by: >)
        let replicationFactor = configuration.replicationFactor
        let majorityEnd = ends[ReplicaAckPolicy.majority(of: replicationFactor) - 1]
        if majorityEnd > highWatermark {
            highWatermark = majorityEnd
            actions.append(.highWatermarkAdvanced(majorityEnd))
        }
        var stillPending: [PendingAppend] = []
        for append in pending {
            let required = append.policy.requiredReplicas(replicationFactor: replicationFactor)
            if ends[required - 1] > append.lastOffset {
                actions.append(.appendSucceeded(requestID: append.requestID, baseOffset: append.baseOffset, lastOffset: append.lastOffset))
            } else {
                stillPending.append(append)
            }
        }
        pending = stillPending
        if let everywhere = ends.last {
            let drop = retained.prefix { $0.batch.endOffset <= everywhere }.count
            if drop > 0 { retained.removeFirst(drop) }
        }
        // Memory bound: a lagging follower may not pin more than `maxRetainedBytes`; what a
        // majority holds durably can go (the lagging follower is then cut off).
        var drop = 0
        while drop < retained.count, retainedBytes(from: drop) > configuration.maxRetainedBytes,
            retained[drop].batch.endOffset <= highWatermark
        {
            drop += 1
        }
        if drop > 0 { retained.removeFirst(drop) }
    }

    /// Bytes of the retained batches from index `start` on.
    func retainedBytes(from start: Int) -> Int {
        start < retained.count ? appendedBytes - retained[start].position : 0
    }

    /// The byte position of the batch starting at `offset`, `appendedBytes` at the log end, or
    /// `nil` if no retained batch starts there.
    func position(of offset: Int64) -> Int? {
        if offset == logEnd { return appendedBytes }
        guard let index = retainedIndex(startingAt: offset) else { return nil }
        return retained[index].position
    }

    /// Binary search for the retained batch whose base offset is `offset`.
    func retainedIndex(startingAt offset: Int64) -> Int? {
        var low = 0
        var high = retained.count
        while low < high {
            let mid = (low + high) / 2
            if retained[mid].batch.baseOffset < offset { low = mid + 1 } else { high = mid }
        }
        guard low < retained.count, retained[low].batch.baseOffset == offset else { return nil }
        return low
    }

    /// Sends the follower what it lacks from `sentEnd`, in pushes of at most `maxPushBytes`,
    /// while its unacknowledged bytes stay within `maxInFlightBytes` (one batch always goes when
    /// nothing is in flight, so an oversized batch cannot stall a follower).
    mutating func pump(_ id: UInt64, into actions: inout [Action]) {
        guard isLeading, var follower = followers[id], !follower.cutOff else { return }
        defer { followers[id] = follower }
        while follower.sentEnd < logEnd {
            guard var index = retainedIndex(startingAt: follower.sentEnd),
                let ackedPosition = position(of: follower.ackedEnd)
            else {
                // What the follower needs is no longer held in memory; pushing cannot help.
                follower.cutOff = true
                actions.append(.followerTooFarBehind(id))
                return
            }
            var inFlight = retained[index].position - ackedPosition
            var batches: [ReplicatedBatch] = []
            var pushBytes = 0
            while index < retained.count {
                let size = retained[index].batch.sizeInBytes
                let fitsFlight = inFlight == 0 || inFlight + size <= configuration.maxInFlightBytes
                let fitsPush = batches.isEmpty || pushBytes + size <= configuration.maxPushBytes
                guard fitsFlight, fitsPush else { break }
                batches.append(retained[index].batch)
                inFlight += size
                pushBytes += size
                index += 1
            }
            guard let last = batches.last else { return }
            follower.sentEnd = last.endOffset
            follower.idleTicks = 0
            actions.append(.send(to: id, makePush(batches)))
        }
    }

    /// An empty push: heartbeat with the high watermark (and a prompt for an ack).
    mutating func sendHeartbeat(_ id: UInt64, into actions: inout [Action]) {
        guard var follower = followers[id], !follower.cutOff else { return }
        follower.idleTicks = 0
        followers[id] = follower
        actions.append(.send(to: id, makePush([])))
    }

    func makePush(_ batches: [ReplicatedBatch]) -> ReplicaPush {
        ReplicaPush(
            segmentID: configuration.segmentID, epoch: configuration.epoch, leaderID: configuration.leaderID,
            epochStartOffset: configuration.baseOffset, highWatermark: highWatermark, batches: batches)
    }
}
