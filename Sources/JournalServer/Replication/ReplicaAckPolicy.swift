/// How many replicas of the active segment must hold an append durably before it is
/// acknowledged to the client.
public enum ReplicaAckPolicy: UInt8, Sendable, Hashable, CaseIterable {
    /// The leader's own fsync is enough (a leader crash before replication loses the record).
    case leader = 0
    /// A majority of the replica set, leader included (the default).
    case quorum = 1
    /// Every replica of the set.
    case all = 2

    /// The number of replicas that must hold a record durably, for a replica set of
    /// `replicationFactor` nodes (leader included).
    public func requiredReplicas(replicationFactor: Int) -> Int {
        switch self {
        case .leader: 1
        case .quorum: Self.majority(of: replicationFactor)
        case .all: max(1, replicationFactor)
        }
    }

    /// The smallest majority of `count` replicas.
    public static func majority(of count: Int) -> Int {
        max(1, count / 2 + 1)
    }
}
