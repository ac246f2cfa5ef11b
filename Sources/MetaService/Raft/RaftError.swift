/// Why a request to a ``RaftNode`` was refused. Refusals have no side effects.
public enum RaftError: Error, Sendable, Equatable {
    /// The request must go to the leader; `leader` is the known leader (`0` if unknown).
    case notLeader(leader: RaftNodeID)
    /// A leadership transfer is in progress; proposals are refused until it ends.
    case transferInProgress
    /// A membership change is still uncommitted, or the leader has not yet committed an entry
    /// of its own term; only one change may be pending at a time.
    case confChangePending
    /// The membership change does not apply to the current configuration.
    case invalidConfChange(RaftConfChange)
    /// The transfer target is not a voter, or is the leader itself.
    case invalidTransferTarget(RaftNodeID)
    /// Compaction was requested at an index that is not durable and applied, or already compacted.
    case compactionOutOfRange(index: UInt64)
}
