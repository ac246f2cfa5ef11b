/// Tuning of a ``RaftNode``. Timeouts are in ticks of the driver's logical clock.
public struct RaftOptions: Sendable, Equatable {
    /// Ticks without hearing from a leader before a follower campaigns; the actual timeout is
    /// drawn uniformly from `[electionTimeout, 2 * electionTimeout)` after each reset.
    /// Also the check-quorum period and the leader-lease length.
    public var electionTimeout: Int
    /// Ticks between leader heartbeats; must be smaller than `electionTimeout`.
    public var heartbeatTimeout: Int
    /// Most AppendEntries messages in flight to one follower in the replicate state.
    public var maxInflightMessages: Int
    /// Upper bound on the entry bytes of one AppendEntries message (at least one entry is sent).
    public var maxMessageBytes: Int
    /// Run a pre-vote round before incrementing the term (Ongaro §9.6).
    public var preVote: Bool
    /// Leaders step down without recent contact from a quorum; followers ignore vote requests
    /// while they have heard from a leader within the election timeout (Ongaro §6.2, §9.6).
    public var checkQuorum: Bool

    /// Creates options; the defaults suit a LAN with a 100 ms tick.
    public init(
        electionTimeout: Int = 10,
        heartbeatTimeout: Int = 1,
        maxInflightMessages: Int = 64,
        maxMessageBytes: Int = 1 << 20,
        preVote: Bool = true,
        checkQuorum: Bool = true
    ) {
        self.electionTimeout = max(electionTimeout, 2)
        self.heartbeatTimeout = min(max(heartbeatTimeout, 1), self.electionTimeout - 1)
        self.maxInflightMessages = max(maxInflightMessages, 1)
        self.maxMessageBytes = max(maxMessageBytes, 1)
        self.preVote = preVote
        self.checkQuorum = checkQuorum
    }
}
