/// The knobs of one replication simulation run; a run is a pure function of these and its seed.
struct ReplicationSimOptions {
    /// Nodes in the cluster (3 to 5) and the replica set size meta asks for.
    var nodes = 3
    var replicationFactor = 3
    /// Steps of the chaotic phase.
    var steps = 300
    /// Steps allowed after healing for the appends of the liveness check to be acknowledged.
    var healSteps = 400
    /// Network faults on leader ↔ follower traffic.
    var dropRate = 0.05
    var duplicateRate = 0.03
    var maxDelay = 4
    /// Per-step fault probabilities.
    var crashRate = 0.006
    var restartRate = 0.05
    var isolateRate = 0.006
    var healRate = 0.04
    /// Per-step probability that a node's pending writes get fsynced (slow nodes use the low one).
    var fastSyncRate = 0.6
    var slowSyncRate = 0.08
    /// Steps a replica of the active segment may be unreachable before meta declares it dead.
    var leaseSteps = 12
    /// Per-step probabilities of a client append and of a read.
    var appendRate = 0.5
    var readRate = 0.3
    /// Share of appends that use `all` instead of `quorum`.
    var allPolicyShare = 0.3
    /// Share of appends sent to a stale leader (a client with an old routing cache).
    var staleRoutingShare = 0.05
    /// Meta rolls the active segment once it holds this many records.
    var rollRecords: Int64 = 60
    /// Leader flow control (small, so it matters).
    var maxInFlightBytes = 600
    var maxPushBytes = 300
    /// Leader memory for unacknowledged batches (small, so slow followers get cut off).
    var maxRetainedBytes = 1500

    static func forSeed(_ seed: UInt64) -> ReplicationSimOptions {
        var options = ReplicationSimOptions()
        options.nodes = 3 + Int(seed % 3)
        options.replicationFactor = seed % 4 == 3 ? 5 : 3
        options.replicationFactor = min(options.replicationFactor, options.nodes)
        return options
    }
}
