/// The state a node must make durable before acting on it: its current term, the candidate it
/// voted for in that term (`0` for none), and its commit index.
public struct RaftHardState: Sendable, Equatable {
    /// The current term.
    public var term: UInt64
    /// The node voted for in ``term`` (`0` for none).
    public var vote: RaftNodeID
    /// The highest index known to be committed.
    public var commit: UInt64

    /// Creates a hard state.
    public init(term: UInt64 = 0, vote: RaftNodeID = 0, commit: UInt64 = 0) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }
}
