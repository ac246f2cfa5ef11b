import Foundation
import Testing

@testable import JournalServer

/// Runs the seeded replication simulation: ~200 seeds by default, `TRIBUTARY_JOURNAL_SEEDS=N`
/// for more (`TRIBUTARY_JOURNAL_SEED=S` runs one seed).
/// Serialized: the seeds are CPU-bound and would otherwise take every cooperative thread of a
/// 2-core machine, starving the socket tests that run beside them.
@Suite(.serialized) struct ReplicationSimulationTests {
    static var seeds: [UInt64] {
        let environment = ProcessInfo.processInfo.environment
        if let one = environment["TRIBUTARY_JOURNAL_SEED"].flatMap(UInt64.init) { return [one] }
        let count = environment["TRIBUTARY_JOURNAL_SEEDS"].flatMap(UInt64.init) ?? 200
        return Array(1...max(1, count))
    }

    /// The seeds split into four shares (run one after another: the suite is serialized).
    static let shares = 0..<4

    @Test(arguments: shares)
    func everyAcknowledgedRecordSurvivesFaults(share: Int) {
        let seeds = Self.seeds.enumerated().filter { $0.offset % Self.shares.count == share }.map(\.element)
        var acknowledged = 0
        var segments = 0
        var fenced = 0
        var lagging = 0
        var failures: [String] = []
        for seed in seeds {
            var simulation = ReplicationSimulation(seed: seed, options: .forSeed(seed))
            simulation.run()
            failures += simulation.violations
            acknowledged += simulation.acknowledged.count
            segments += simulation.segments.count
            fenced += simulation.fencedAppends
            lagging += simulation.laggingFollowers
            if failures.count > 20 { break }
        }
        #expect(failures.isEmpty, "\(failures.prefix(20).joined(separator: "\n"))")
        // The runs exercised what they are meant to: many acknowledged appends, many segments
        // (seals after failures and rolls), stale leaders fenced by followers, slow followers
        // cut off by the leader's memory bound.
        #expect(acknowledged >= seeds.count * 20)
        #expect(segments >= seeds.count * 2)
        if seeds.count >= 40 {
            #expect(fenced > 0)
            #expect(lagging > 0)
        }
        print("replication simulation share \(share): \(seeds.count) seeds, \(acknowledged) acknowledged appends, \(segments) segments, \(fenced) appends failed by fencing, \(lagging) followers cut off")
    }

    @Test func aSeedDeterminesTheRun() {
        var first = ReplicationSimulation(seed: 42, options: .forSeed(42))
        first.run()
        var second = ReplicationSimulation(seed: 42, options: .forSeed(42))
        second.run()
        #expect(first.outcomeDigest == second.outcomeDigest)
        #expect(!first.acknowledged.isEmpty)
    }
}
