import MetaService

/// The knobs of one simulation run; every run is a pure function of these and the seed.
struct SimulationOptions {
    /// Founding voters (3 or 5).
    var voters = 3
    /// Extra nodes that start empty and may be added as learners/voters.
    var spares = 1
    /// Steps of the chaotic phase (one tick per node per step).
    var steps = 2500
    /// Steps allowed after healing for a leader to be elected and commit (the liveness bound).
    var healSteps = 300
    /// Probability that a message is dropped / duplicated.
    var dropRate = 0.05
    var duplicateRate = 0.02
    /// Messages are delayed 1...maxDelay steps (which reorders them).
    var maxDelay = 4
    /// Driver delay before a ready is made durable: 0...maxPersistDelay steps.
    var maxPersistDelay = 2
    /// Per-drive probability that the driver applies the durable committed entries at once
    /// (``RaftNode/takeCommittedEntries()``), also while a ready is being persisted.
    var earlyApplyRate = 0.5
    /// Per-step probabilities of faults and administrative actions.
    var crashRate = 0.004
    var partitionRate = 0.008
    var healRate = 0.01
    var confChangeRate = 0.01
    var transferRate = 0.004
    /// Per-step probability that an idle client starts an operation.
    var clientRate = 0.25
    var clients = 3
    var keys: UInt8 = 3
    /// Steps a client waits before giving up (outcome unknown).
    var clientTimeout = 60
    /// Compact a node's log once this many entries are applied past its snapshot.
    var compactionThreshold: UInt64 = 40
    var raft = RaftOptions(electionTimeout: 10, heartbeatTimeout: 2, maxInflightMessages: 4, maxMessageBytes: 256)

    /// The options for a seed: alternates 3- and 5-voter clusters, and runs some seeds without
    /// check-quorum or without pre-vote (a deposed leader then lingers, which ReadIndex must
    /// survive).
    static func forSeed(_ seed: UInt64) -> SimulationOptions {
        var options = SimulationOptions()
        if seed % 2 == 1 {
            options.voters = 5
        }
        options.raft = RaftOptions(
            electionTimeout: 10, heartbeatTimeout: 2, maxInflightMessages: 4, maxMessageBytes: 256,
            preVote: seed % 5 != 4, checkQuorum: seed % 3 != 2
        )
        return options
    }
}
