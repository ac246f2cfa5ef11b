import ArgumentParser
import Foundation
import JournalServer
import Logging
import NIOCore
import NIOPosix
import Shared

/// `tributary bench journal`: appends of fixed-size records to a journal node's shards, with
/// throughput (appends/s, records/s, MB/s) and append latency percentiles.
struct BenchJournalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Benchmark durable appends against a journal node.",
        discussion: """
            Creates --shards fresh shards (bench-<random>-<n>, with --durability) on the node at \
            --journal HOST:PORT, keeps --concurrency appends in flight over --connections RPC \
            connections (each lane issues its next append from the previous one's completion; \
            lane i writes shard i mod --shards), each append --batch records of --record-size \
            value bytes, for --duration seconds, then deletes the shards (unless --keep). An \
            append's latency runs from the call to its acknowledgement, which the node sends \
            only once the records are durable per the shard's durability policy. Prints a \
            progress line every second and a summary (appends/s, records/s, MB/s of record \
            values, p50/p90/p99/p999/max latency in microseconds, errors).
            """
    )

    @Option(help: "The journal node's RPC address, HOST:PORT.")
    var journal: String

    @Option(help: "Value bytes per record.")
    var recordSize: Int = 1024

    @Option(help: "Records per append.")
    var batch: Int = 1

    @Option(help: "Appends kept in flight at once.")
    var concurrency: Int = 64

    @Option(help: "Shards written (lanes are spread over them).")
    var shards: Int = 1

    @Option(help: "RPC connections to the node (requests are pipelined over them).")
    var connections: Int = 4

    @Option(help: "Run for this many seconds.")
    var duration: Int = 10

    @Option(help: "The shards' fsync policy: group (group commit), every-batch or never.")
    var durability: String = "group"

    @Flag(help: "Keep the benchmark's shards instead of deleting them at the end.")
    var keep = false

    @Flag(help: "Print the summary as one JSON object.")
    var json = false

    func validate() throws {
        guard RPCEndpoint(self.journal) != nil else { throw ValidationError("--journal must be HOST:PORT; '\(self.journal)' is not") }
        guard self.recordSize >= 0 && self.recordSize <= 1 << 20 else { throw ValidationError("--record-size must be between 0 and 1048576") }
        guard self.batch >= 1 && self.batch <= 10_000 else { throw ValidationError("--batch must be between 1 and 10000") }
        guard self.batch * self.recordSize <= 4 << 20 else { throw ValidationError("--batch × --record-size must be at most 4 MiB") }
        guard self.concurrency >= 1 && self.concurrency <= 10_000 else { throw ValidationError("--concurrency must be between 1 and 10000") }
        guard self.shards >= 1 && self.shards <= 1000 else { throw ValidationError("--shards must be between 1 and 1000") }
        guard self.connections >= 1 && self.connections <= 64 else { throw ValidationError("--connections must be between 1 and 64") }
        guard self.duration >= 1 else { throw ValidationError("--duration must be at least 1 second") }
        _ = try self.policy()
    }

    func policy() throws -> DurabilityPolicy {
        switch self.durability {
        case "group": return .interval(milliseconds: 0)
        case "every-batch": return .everyBatch
        case "never": return .never
        default: throw ValidationError("--durability must be group, every-batch or never; '\(self.durability)' is not")
        }
    }

    func run() async throws {
        var logger = Logger(label: "tributary.bench.journal")
        logger.logLevel = .warning
        guard let endpoint = RPCEndpoint(self.journal) else { throw ValidationError("--journal must be HOST:PORT") }
        let rpc = RPCClient(endpoints: [endpoint], connections: self.connections, logger: logger)
        let client = JournalClient(transport: rpc)
        let prefix = "bench-\(UInt32.random(in: 0...UInt32.max))"
        let names = (0..<self.shards).map { "\(prefix)-\($0)" }
        let target = BenchJournalTarget(
            client: client, shards: names, recordSize: self.recordSize, batch: self.batch, group: MultiThreadedEventLoopGroup.singleton)
        var created: [String] = []
        let completed: Int
        do {
            let settings = ShardSettings(durability: try self.policy())
            for name in names {
                do {
                    _ = try await client.createShard(name, settings: settings, options: .timeout(.seconds(10)))
                    created.append(name)
                } catch {
                    FileHandle.standardError.write(Data("tributary bench journal: cannot create shard \(name) on \(self.journal): \(error)\n".utf8))
                    throw ExitCode.failure
                }
            }
            if !self.json { print("appending to \(self.shards) shard(s) \(prefix)-* on \(self.journal) (\(settings))") }
            let recorder = BenchLatencyRecorder(stopAt: .now() + .seconds(Int64(self.duration)), maxCalls: nil)
            let started = NIODeadline.now()
            let progress = Task { await recorder.reportProgress(unit: "appends", failureWord: "errors", quiet: self.json) }
            try await target.run(concurrency: self.concurrency, recorder: recorder)
            let elapsed = Double((NIODeadline.now() - started).nanoseconds) / 1e9
            progress.cancel()
            let stored = try await target.storedRecords()
            if !self.keep {
                for name in names { try? await client.deleteShard(name, options: .timeout(.seconds(30))) }
            }
            print(BenchJournalSummary(command: self, recorder: recorder, elapsed: elapsed, storedRecords: stored).render(json: self.json))
            completed = recorder.completed
        } catch {
            if !self.keep {
                for name in created { try? await client.deleteShard(name, options: .timeout(.seconds(5))) }
            }
            await rpc.shutdown()
            throw error
        }
        await rpc.shutdown()
        if completed == 0 { throw ExitCode.failure }
    }
}
