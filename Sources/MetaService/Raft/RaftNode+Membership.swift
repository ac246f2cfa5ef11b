extension RaftNode {
    /// Proposes a single-server membership change on the leader and returns the index of its
    /// entry. The new configuration takes effect on each node when the entry is appended there.
    ///
    /// Refused unless this node is the leader, no transfer is in progress, the previous
    /// change is committed and the leader has committed an entry of its own term. The leader
    /// cannot remove itself (transfer leadership first).
    @discardableResult
    public mutating func proposeConfChange(_ change: RaftConfChange) throws(RaftError) -> UInt64 {
        guard role == .leader else { throw .notLeader(leader: leaderID) }
        guard leadTransferee == 0 else { throw .transferInProgress }
        guard log.lastConfigIndex <= log.committed, committedInCurrentTerm else { throw .confChangePending }
        if case .removeVoter(let removed) = change, removed == id { throw .invalidConfChange(change) }
        let next = try log.configuration.applying(change)
        return appendEntry(kind: .confChange, data: next.encodedBytes())
    }

    /// Asks the leader to hand leadership to the voter `target`: the leader stops accepting
    /// proposals, brings the target's log up to date and sends it TimeoutNow, upon which the
    /// target campaigns at once (overriding the peers' leader lease). Abandoned after an
    /// election timeout.
    public mutating func transferLeadership(to target: RaftNodeID) throws(RaftError) {
        guard role == .leader else { throw .notLeader(leader: leaderID) }
        guard target != id, log.configuration.voters.contains(target) else { throw .invalidTransferTarget(target) }
        if leadTransferee == target { return }
        leadTransferee = target
        electionElapsed = 0
        if progress[target]?.match == log.lastIndex {
            send(to: target, .timeoutNow)
        } else {
            sendAppend(to: target, sendIfEmpty: true)
        }
    }
}
