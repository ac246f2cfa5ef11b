import ArgumentParser
import Histogram
import Logging
import NIOCore
import NIOPosix
import Shared

/// `tributary bench meta`: linearizable small writes against a running MetaService cluster
/// (`--meta`) or, for comparison with the same load generator, an etcd cluster (`--etcd`, its
/// v3 HTTP/JSON gateway).
struct BenchMetaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meta",
        abstract: "Benchmark linearizable small KV writes against a meta (or etcd) cluster.",
        discussion: """
            Keeps --concurrency puts in flight (each issued from the previous one's completion, no \
            task per request), random keys out of --keys, values of --value-size bytes, for \
            --duration seconds. --meta HOST:PORT,… finds the leader and pipelines meta.put calls \
            to it over --connections RPC connections. --etcd URL,… drives etcd's v3 HTTP/JSON \
            gateway (POST /v3/kv/put) over keep-alive HTTP/1.1 connections, one per in-flight \
            request (its gateway answers one request per connection at a time), sent to the \
            leader found with /v3/maintenance/status. Prints a progress line every second and a \
            summary (writes/s, p50/p90/p99/p999/max latency in microseconds, errors).
            """
    )

    @Option(help: "Meta members as HOST:PORT,… (the leader is found and written to).")
    var meta: String?

    @Option(help: "etcd client URLs as http://HOST:PORT,… (instead of --meta).")
    var etcd: String?

    @Option(help: "Writes kept in flight at once.")
    var concurrency: Int = 256

    @Option(help: "Run for this many seconds.")
    var duration: Int = 10

    @Option(help: "Value size in bytes.")
    var valueSize: Int = 64

    @Option(help: "Number of distinct keys written (chosen at random).")
    var keys: Int = 10_000

    @Option(help: "RPC connections to the meta leader (requests are pipelined over them).")
    var connections: Int = 4

    @Flag(help: "Print the summary as one JSON object.")
    var json = false

    func validate() throws {
        guard (self.meta == nil) != (self.etcd == nil) else { throw ValidationError("give exactly one of --meta and --etcd") }
        guard self.concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard self.connections >= 1 else { throw ValidationError("--connections must be at least 1") }
        guard self.duration >= 1 else { throw ValidationError("--duration must be at least 1 second") }
        guard self.keys >= 1 else { throw ValidationError("--keys must be at least 1") }
        guard self.valueSize >= 0 && self.valueSize <= 64 << 10 else { throw ValidationError("--value-size must be between 0 and 65536") }
        if let meta = self.meta {
            for address in meta.split(separator: ",") where RPCEndpoint(String(address)) == nil {
                throw ValidationError("--meta must be HOST:PORT[,HOST:PORT…]; '\(address)' is not")
            }
        }
        if let etcd = self.etcd {
            for url in etcd.split(separator: ",") where BenchEtcdTarget.endpoint(of: String(url)) == nil {
                throw ValidationError("--etcd must be http://HOST:PORT[,…]; '\(url)' is not")
            }
        }
    }

    func run() async throws {
        var logger = Logger(label: "tributary.bench.meta")
        logger.logLevel = .warning
        let group = MultiThreadedEventLoopGroup.singleton
        let workload = BenchMetaWorkload(keys: self.keys, valueSize: self.valueSize)
        let runner: any BenchMetaRunner
        if let meta = self.meta {
            let addresses = meta.split(separator: ",").map(String.init)
            runner = try await BenchMetaTarget.connect(addresses: addresses, connections: self.connections, workload: workload, group: group, logger: logger)
        } else {
            let urls = (self.etcd ?? "").split(separator: ",").map(String.init)
            runner = try await BenchEtcdTarget.connect(urls: urls, concurrency: self.concurrency, workload: workload, group: group)
        }
        if !self.json { print("writing to \(runner.description)") }
        let recorder = BenchLatencyRecorder(stopAt: .now() + .seconds(Int64(self.duration)), maxCalls: nil)
        let started = NIODeadline.now()
        let progress = Task { await recorder.reportProgress(unit: "writes", failureWord: "errors", quiet: self.json) }
        defer { progress.cancel() }
        do {
            try await runner.run(concurrency: self.concurrency, recorder: recorder)
        } catch {
            await runner.close()
            throw error
        }
        let elapsed = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        progress.cancel()
        await runner.close()
        self.printSummary(target: runner.name, recorder: recorder, elapsed: elapsed)
    }

    private func printSummary(target: String, recorder: BenchLatencyRecorder, elapsed: Double) {
        let histogram = recorder.snapshot
        let completed = recorder.completed
        let rate = elapsed > 0 ? Double(completed) / elapsed : 0
        let p50 = histogram.valueAtPercentile(50)
        let p90 = histogram.valueAtPercentile(90)
        let p99 = histogram.valueAtPercentile(99)
        let p999 = histogram.valueAtPercentile(99.9)
        let max = histogram.max
        if self.json {
            print(
                "{\"target\":\"\(target)\",\"concurrency\":\(self.concurrency),\"valueBytes\":\(self.valueSize),"
                    + "\"keys\":\(self.keys),\"writes\":\(completed),\"errors\":\(recorder.failed),"
                    + "\"seconds\":\(BenchLatencyRecorder.format(elapsed)),\"writesPerSecond\":\(BenchLatencyRecorder.format(rate)),"
                    + "\"p50Micros\":\(p50),\"p90Micros\":\(p90),\"p99Micros\":\(p99),\"p999Micros\":\(p999),\"maxMicros\":\(max)}"
            )
        } else {
            print("""
                \(target): \(completed) writes (\(recorder.failed) errors) in \(BenchLatencyRecorder.format(elapsed)) s, \
                concurrency \(self.concurrency), value \(self.valueSize) B, \(self.keys) keys
                throughput: \(BenchLatencyRecorder.format(rate)) writes/s
                latency µs: p50 \(p50)  p90 \(p90)  p99 \(p99)  p999 \(p999)  max \(max)
                """)
        }
    }
}
