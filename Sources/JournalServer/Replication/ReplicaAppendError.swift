/// Why the leader of a segment did not acknowledge a client append.
///
/// A failure means "not acknowledged": the records may or may not survive a later seal (they
/// may already be durable on some replicas). Clients retry through meta's current leader.
public enum ReplicaAppendError: Error, Sendable, Equatable, CustomStringConvertible {
    /// This replica no longer leads the segment (meta sealed it or moved leadership); ask meta
    /// for the shard's current active segment.
    case notLeader
    /// A replica reported a newer epoch: this leader is stale and has stopped.
    case fenced(epoch: Int32)
    /// The records could not be encoded as a batch.
    case invalidRecords(RecordBatchError)

    public var description: String {
        switch self {
        case .notLeader: "this replica is not the segment's leader"
        case .fenced(let epoch): "the leader was fenced by epoch \(epoch)"
        case .invalidRecords(let error): "invalid records: \(error)"
        }
    }
}
