/// Why a follower refused a push.
public enum ReplicaRejectReason: Sendable, Hashable {
    /// The push came from an epoch older than the follower's (the follower was fenced by meta or
    /// follows a newer leader); the reject's `epoch` is the follower's.
    case staleEpoch
    /// The push does not start at the follower's end; the leader resends from `end`.
    case notContiguous(end: Int64)
}
