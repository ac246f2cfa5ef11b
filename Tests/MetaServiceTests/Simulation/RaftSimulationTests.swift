import Foundation
import MetaService
import Testing

/// The seeds to simulate: `TRIBUTARY_RAFT_SEED=S` runs one, `TRIBUTARY_RAFT_SEEDS=N` runs
/// seeds 0..<N, otherwise 200.
let raftSimulationSeeds: [UInt64] = {
    let environment = ProcessInfo.processInfo.environment
    if let text = environment["TRIBUTARY_RAFT_SEED"], let seed = UInt64(text) {
        return [seed]
    }
    let count = environment["TRIBUTARY_RAFT_SEEDS"].flatMap { UInt64($0) } ?? 200
    return Array(0..<count)
}()

/// Serialized: the seeds are CPU-bound and would otherwise take every cooperative thread of a
/// 2-core machine, starving the socket tests that run beside them.
@Suite("Raft deterministic simulation", .serialized)
struct RaftSimulationTests {
    @Test("safety on every step, liveness after healing, linearizable client history", arguments: raftSimulationSeeds)
    func simulate(seed: UInt64) {
        let simulation = RaftSimulation(seed: seed, options: .forSeed(seed))
        let violations = simulation.run()
        #expect(violations.isEmpty, "seed \(seed) (rerun with TRIBUTARY_RAFT_SEED=\(seed)): \(violations)")
    }

    @Test("a simulation run is reproducible from its seed")
    func reproducible() {
        let first = RaftSimulation(seed: 7, options: .forSeed(7))
        let second = RaftSimulation(seed: 7, options: .forSeed(7))
        #expect(first.run().isEmpty)
        #expect(second.run().isEmpty)
        #expect(first.history == second.history)
        #expect(first.checker.committed == second.checker.committed)
    }

    @Test("the simulation exercises faults, snapshots, membership, transfers and both kinds of reads")
    func coverage() {
        var total = RaftSimulation.Stats()
        for seed in UInt64(0)..<20 {
            let simulation = RaftSimulation(seed: seed, options: .forSeed(seed))
            #expect(simulation.run().isEmpty, "seed \(seed)")
            let stats = simulation.stats
            total.crashes += stats.crashes
            total.confChanges += stats.confChanges
            total.transfers += stats.transfers
            total.compactions += stats.compactions
            total.snapshotsInstalled += stats.snapshotsInstalled
            total.writesAcknowledged += stats.writesAcknowledged
            total.readsAcknowledged += stats.readsAcknowledged
        }
        #expect(total.crashes > 20)
        #expect(total.confChanges > 10)
        #expect(total.transfers > 5)
        #expect(total.compactions > 20)
        #expect(total.snapshotsInstalled > 0)
        #expect(total.writesAcknowledged > 1000)
        #expect(total.readsAcknowledged > 500)
    }
}
