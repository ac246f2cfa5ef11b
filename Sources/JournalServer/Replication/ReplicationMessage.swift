/// Every message of segment replication, as carried in an RPC body (see
/// `ReplicationMessage+Wire.swift` for the encoding).
public enum ReplicationMessage: Sendable, Hashable {
    /// Leader → follower batches or heartbeat.
    case push(ReplicaPush)
    /// Follower → leader durable progress.
    case ack(ReplicaAck)
    /// Follower → leader refusal.
    case reject(ReplicaReject)
    /// Meta → replica: fence and report.
    case sealRequest(SegmentSealRequest)
    /// Replica → meta: fenced, with the durable end.
    case sealResponse(SegmentSealResponse)
}
