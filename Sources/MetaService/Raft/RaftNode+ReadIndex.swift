extension RaftNode {
    /// Requests a linearizable read. The answer arrives as a ``RaftReadState`` in a later ready
    /// (on this node, even when it is a follower: the request is forwarded to the leader).
    ///
    /// The leader answers with its commit index as read index once (a) it has committed an
    /// entry of its own term (until then the request waits for its no-op entry) and (b) a
    /// quorum of voters acknowledged a heartbeat sent after the request, proving it was still the
    /// leader. The reader then waits until its state machine has applied the read index.
    /// Requests are dropped if leadership is lost; callers retry after a timeout.
    public mutating func readIndex(context: [UInt8]) throws(RaftError) {
        if role == .leader {
            handleReadRequest(ReadRequest(context: context, from: id))
        } else if leaderID != 0 {
            send(to: leaderID, .readIndex(context: context))
        } else {
            throw .notLeader(leader: 0)
        }
    }

    /// Whether the entry at the commit index belongs to the current term.
    var committedInCurrentTerm: Bool { log.term(at: log.committed) == term }

    mutating func handleReadRequest(_ request: ReadRequest) {
        guard committedInCurrentTerm else {
            readsAwaitingCommit.append(request)
            return
        }
        if log.configuration.voters == [id] {
            answerRead(request, index: log.committed)
            return
        }
        readSequence += 1
        pendingReads.append(PendingRead(sequence: readSequence, index: log.committed, request: request, acks: [id]))
        broadcastHeartbeat()
    }

    mutating func releaseReadsAwaitingCommit() {
        guard !readsAwaitingCommit.isEmpty, committedInCurrentTerm else { return }
        let waiting = readsAwaitingCommit
        readsAwaitingCommit = []
        for request in waiting { handleReadRequest(request) }
    }

    /// Records that `peer` acknowledged a heartbeat sent after every read up to `sequence`.
    mutating func acknowledgeReads(from peer: RaftNodeID, upTo sequence: UInt64) {
        guard sequence > 0, log.configuration.voters.contains(peer) else { return }
        for position in pendingReads.indices where pendingReads[position].sequence <= sequence {
            pendingReads[position].acks.insert(peer)
        }
        let voters = log.configuration.voters
        let quorum = log.configuration.quorum
        while let first = pendingReads.first, first.acks.intersection(voters).count >= quorum {
            pendingReads.removeFirst()
            answerRead(first.request, index: first.index)
        }
    }

    private mutating func answerRead(_ request: ReadRequest, index: UInt64) {
        if request.from == id {
            readStates.append(RaftReadState(index: index, context: request.context))
        } else {
            send(to: request.from, .readIndexResponse(context: request.context, index: index))
        }
    }
}
