import ArgumentParser
import Histogram
import Logging
import NIOCore
import NIOPosix
import Shared

/// `tributary bench rpc`: measures `node.ping` throughput and latency over the binary RPC (or,
/// with `--baseline`, over a raw NIO echo of the same frame size and pipelining depth).
struct BenchRPCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rpc",
        abstract: "Benchmark the binary RPC with node.ping calls.",
        discussion: """
            Without --target, starts its own RPC server on 127.0.0.1 (port 0) in this process. \
            Keeps --concurrency calls outstanding over --connections pooled connections, for \
            --duration seconds or --calls calls. Prints a progress line every second and a summary \
            (calls/s, p50/p99/p999/max latency in microseconds). --baseline runs a raw NIO echo \
            server and client with the same frame size and pipelining instead, for comparison.
            """
    )

    @Option(help: "Server to call, as HOST:PORT (default: an in-process server on 127.0.0.1:0).")
    var target: String?

    @Option(help: "Number of pooled connections.")
    var connections: Int = 1

    @Option(help: "Calls kept outstanding at once (pipelined over the connections).")
    var concurrency: Int = 64

    @Option(help: "Ping payload size in bytes.")
    var payload: Int = 64

    @Option(help: "Run for this many seconds (ignored when --calls is given).")
    var duration: Int = 10

    @Option(help: "Run exactly this many calls instead of a fixed duration.")
    var calls: Int?

    @Flag(help: "Measure a raw NIO echo of the same frame size and pipelining instead of the RPC.")
    var baseline = false

    @Flag(help: "Print the summary as one JSON object.")
    var json = false

    func validate() throws {
        guard self.connections >= 1 else { throw ValidationError("--connections must be at least 1") }
        guard self.concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard self.payload >= 0 && self.payload <= RPCFrame.defaultMaxFrameBytes - 16 else {
            throw ValidationError("--payload must be between 0 and \(RPCFrame.defaultMaxFrameBytes - 16) bytes")
        }
        guard self.duration >= 1 else { throw ValidationError("--duration must be at least 1 second") }
        if let calls = self.calls, calls < 1 { throw ValidationError("--calls must be at least 1") }
        if let target = self.target, RPCEndpoint(target) == nil {
            throw ValidationError("--target must be HOST:PORT, got \(target)")
        }
    }

    func run() async throws {
        var logger = Logger(label: "tributary.bench.rpc")
        logger.logLevel = .warning
        let group = MultiThreadedEventLoopGroup.singleton
        let request = NodePing(payload: ByteBuffer(repeating: 0x5A, count: self.payload))
        let recorder = BenchLatencyRecorder(
            stopAt: self.calls == nil ? .now() + .seconds(Int64(self.duration)) : nil,
            maxCalls: self.calls
        )
        let started = NIODeadline.now()
        let progress = Task { await recorder.reportProgress(unit: "calls", failureWord: "failed", quiet: self.json) }
        defer { progress.cancel() }

        let mode: String
        if self.baseline {
            mode = "baseline"
            try await self.runBaseline(group: group, request: request, recorder: recorder)
        } else {
            mode = "rpc"
            try await self.runRPC(group: group, request: request, recorder: recorder, logger: logger)
        }
        let elapsed = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        progress.cancel()
        self.printSummary(mode: mode, recorder: recorder, elapsed: elapsed)
    }

    private func runRPC(group: any EventLoopGroup, request: NodePing, recorder: BenchLatencyRecorder, logger: Logger) async throws {
        var server: RPCServer?
        let endpoint: RPCEndpoint
        if let target = self.target, let parsed = RPCEndpoint(target) {
            endpoint = parsed
        } else {
            var router = RPCRouter()
            NodeService(nodeID: "bench", roles: ["bench"], version: "bench").register(into: &router)
            let local = RPCServer(configuration: .init(host: "127.0.0.1", port: 0), router: router, group: group, logger: logger)
            let address = try await local.start()
            endpoint = RPCEndpoint(host: "127.0.0.1", port: address.port ?? 0)
            server = local
        }
        let client = RPCClient(endpoints: [endpoint], connections: self.connections, group: group, logger: logger)
        // Open every pooled connection before measuring.
        for _ in 0..<self.connections {
            _ = try await client.call(NodeAPI.ping, NodePing(), options: .timeout(.seconds(10)))
        }
        let lanes = (0..<self.concurrency).map { _ in group.next().makePromise(of: Void.self) }
        for lane in lanes {
            Self.runLane(client: client, request: request, recorder: recorder, done: lane)
        }
        var firstError: (any Error)?
        for lane in lanes {
            do {
                try await lane.futureResult.get()
            } catch {
                firstError = firstError ?? error
            }
        }
        await client.shutdown()
        await server?.shutdown()
        if let firstError {
            throw firstError
        }
    }

    /// One outstanding call at a time, chained from the previous completion on the event loop.
    private static func runLane(client: RPCClient, request: NodePing, recorder: BenchLatencyRecorder, done: EventLoopPromise<Void>) {
        guard recorder.shouldIssue() else {
            done.succeed()
            return
        }
        let start = NIODeadline.now()
        client.callFuture(NodeAPI.ping, request, options: .timeout(.seconds(30))).whenComplete { result in
            switch result {
            case .success:
                recorder.recordSuccess(since: start)
                runLane(client: client, request: request, recorder: recorder, done: done)
            case .failure(let error):
                recorder.recordFailure()
                done.fail(error)
            }
        }
    }

    private func runBaseline(group: any EventLoopGroup, request: NodePing, recorder: BenchLatencyRecorder) async throws {
        var body = ByteBuffer()
        request.encode(into: &body)
        var frame = ByteBuffer()
        RPCFrame(kind: .request, methodID: NodeAPI.ping.id, correlationID: 1, timeoutMillis: 30_000, body: body).encode(into: &frame)
        let server = try await BenchRPCBaseline.startServer(group: group)
        guard let address = server.localAddress else { throw ValidationError("echo server has no address") }
        try await BenchRPCBaseline.runClients(
            group: group,
            address: address,
            connections: self.connections,
            concurrency: self.concurrency,
            frame: frame,
            recorder: recorder
        )
        try? await server.close()
    }

    private func printSummary(mode: String, recorder: BenchLatencyRecorder, elapsed: Double) {
        let histogram = recorder.snapshot
        let completed = recorder.completed
        let rate = elapsed > 0 ? Double(completed) / elapsed : 0
        let p50 = histogram.valueAtPercentile(50)
        let p99 = histogram.valueAtPercentile(99)
        let p999 = histogram.valueAtPercentile(99.9)
        let max = histogram.max
        if self.json {
            print(
                "{\"mode\":\"\(mode)\",\"connections\":\(self.connections),\"concurrency\":\(self.concurrency),"
                    + "\"payloadBytes\":\(self.payload),\"calls\":\(completed),\"failed\":\(recorder.failed),"
                    + "\"seconds\":\(BenchLatencyRecorder.format(elapsed)),\"callsPerSecond\":\(BenchLatencyRecorder.format(rate)),"
                    + "\"p50Micros\":\(p50),\"p99Micros\":\(p99),\"p999Micros\":\(p999),\"maxMicros\":\(max)}"
            )
        } else {
            print("""
                \(mode): \(completed) calls (\(recorder.failed) failed) in \(BenchLatencyRecorder.format(elapsed)) s over \(self.connections) connection(s), \
                concurrency \(self.concurrency), payload \(self.payload) B
                throughput: \(BenchLatencyRecorder.format(rate)) calls/s
                latency µs: p50 \(p50)  p99 \(p99)  p999 \(p999)  max \(max)
                """)
        }
    }
}
