/// A message between Raft nodes. Every message carries the sender's term (for a pre-vote
/// request: the term the sender would campaign in; for a granted pre-vote: that same term).
public struct RaftMessage: Sendable, Equatable {
    /// The sender.
    public var from: RaftNodeID
    /// The recipient.
    public var to: RaftNodeID
    /// The sender's term (see the type's documentation for pre-votes).
    public var term: UInt64
    /// What the message says.
    public var body: RaftMessageBody

    /// Creates a message.
    public init(from: RaftNodeID, to: RaftNodeID, term: UInt64, body: RaftMessageBody) {
        self.from = from
        self.to = to
        self.term = term
        self.body = body
    }
}

/// The closed set of Raft message kinds.
public enum RaftMessageBody: Sendable, Equatable {
    /// Leader → follower: entries following (`prevIndex`, `prevTerm`), and the leader's commit.
    case appendEntries(prevIndex: UInt64, prevTerm: UInt64, entries: [RaftEntry], commit: UInt64)
    /// Follower → leader. On success `index` is the follower's last index matching the leader.
    /// On reject, `index` is the rejected `prevIndex` and (`rejectHint`, `hintTerm`) is the
    /// follower's largest index whose term is at most `prevTerm`, with that term, so the leader
    /// can skip a whole conflicting term per round trip. Also acknowledges an installed snapshot.
    case appendResponse(index: UInt64, reject: Bool, rejectHint: UInt64, hintTerm: UInt64)
    /// Candidate → voter. `transfer` marks an election started by a leadership transfer, which
    /// overrides the leader lease.
    case requestVote(lastIndex: UInt64, lastTerm: UInt64, preVote: Bool, transfer: Bool)
    /// Voter → candidate.
    case voteResponse(granted: Bool, preVote: Bool)
    /// Leader → follower: keeps leadership, carries `min(follower match, commit)` and the newest
    /// pending ReadIndex sequence number (0 for none).
    case heartbeat(commit: UInt64, readSequence: UInt64)
    /// Follower → leader: echoes the heartbeat's read sequence number.
    case heartbeatResponse(readSequence: UInt64)
    /// Leader → follower whose next entry is compacted away.
    case installSnapshot(RaftSnapshot)
    /// Leader → transfer target: start an election now.
    case timeoutNow
    /// Follower → leader: a linearizable read request to be given a read index.
    case readIndex(context: [UInt8])
    /// Leader → follower: the read index for a forwarded read request.
    case readIndexResponse(context: [UInt8], index: UInt64)
}
