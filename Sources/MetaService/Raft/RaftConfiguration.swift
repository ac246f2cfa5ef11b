/// A cluster membership: the voters (counted for elections and commitment) and the learners
/// (receive the log, never vote).
///
/// Membership changes are made one server at a time (Ongaro's thesis §4.1): each change adds or
/// removes a single voter (or changes learners only), so any majority of the old configuration
/// overlaps any majority of the new one. A configuration takes effect on a node as soon as its
/// `confChange` entry is appended to that node's log (and is rolled back if the entry is
/// truncated). See ``RaftNode/proposeConfChange(_:)`` for the rules a leader enforces.
public struct RaftConfiguration: Sendable, Equatable, Hashable {
    /// The voting members.
    public var voters: Set<RaftNodeID>
    /// The non-voting members.
    public var learners: Set<RaftNodeID>

    /// Creates a configuration.
    public init(voters: Set<RaftNodeID> = [], learners: Set<RaftNodeID> = []) {
        self.voters = voters
        self.learners = learners.subtracting(voters)
    }

    /// Every member, voters and learners.
    public var members: Set<RaftNodeID> { voters.union(learners) }

    /// The number of voters that form a majority.
    public var quorum: Int { voters.count / 2 + 1 }

    /// The configuration after `change`, or why the change is not allowed.
    public func applying(_ change: RaftConfChange) throws(RaftError) -> RaftConfiguration {
        var next = self
        switch change {
        case .addVoter(let id):
            guard id != 0, !voters.contains(id), !learners.contains(id) else { throw .invalidConfChange(change) }
            next.voters.insert(id)
        case .addLearner(let id):
            guard id != 0, !voters.contains(id), !learners.contains(id) else { throw .invalidConfChange(change) }
            next.learners.insert(id)
        case .promoteLearner(let id):
            guard learners.contains(id) else { throw .invalidConfChange(change) }
            next.learners.remove(id)
            next.voters.insert(id)
        case .removeVoter(let id):
            guard voters.contains(id), voters.count > 1 else { throw .invalidConfChange(change) }
            next.voters.remove(id)
        case .removeLearner(let id):
            guard learners.contains(id) else { throw .invalidConfChange(change) }
            next.learners.remove(id)
        }
        return next
    }
}

/// A single-server membership change, proposed with ``RaftNode/proposeConfChange(_:)``.
public enum RaftConfChange: Sendable, Equatable, Hashable {
    /// Adds a new voter (prefer `addLearner` then `promoteLearner`, so it catches up first).
    case addVoter(RaftNodeID)
    /// Removes a voter (not the leader itself: transfer leadership first).
    case removeVoter(RaftNodeID)
    /// Adds a learner.
    case addLearner(RaftNodeID)
    /// Makes a learner a voter.
    case promoteLearner(RaftNodeID)
    /// Removes a learner.
    case removeLearner(RaftNodeID)
}
