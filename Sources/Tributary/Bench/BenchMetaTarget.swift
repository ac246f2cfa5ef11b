import Logging
import MetaService
import NIOCore
import NIOPosix
import Shared

/// `tributary bench meta --meta`: `meta.put` calls pipelined to the leader of a MetaService
/// cluster over a few RPC connections.
final class BenchMetaTarget: BenchMetaRunner {
    let name = "tributary"
    let description: String
    private let client: RPCClient
    private let workload: BenchMetaWorkload
    private let group: any EventLoopGroup

    private init(leader: String, client: RPCClient, workload: BenchMetaWorkload, group: any EventLoopGroup) {
        self.description = "meta leader \(leader)"
        self.client = client
        self.workload = workload
        self.group = group
    }

    /// Finds the leader among `addresses` and opens `connections` connections to it.
    static func connect(
        addresses: [String], connections: Int, workload: BenchMetaWorkload, group: any EventLoopGroup, logger: Logger
    ) async throws -> BenchMetaTarget {
        let finder = MetaClient(addresses: addresses, options: .init(timeout: .seconds(20), attemptTimeout: .seconds(2))) { address in
            RPCClient(endpoints: RPCEndpoint(address).map { [$0] } ?? [], group: group, logger: logger)
        }
        let status: MetaStatusResponse
        do {
            status = try await finder.leaderStatus()
        } catch {
            await finder.close()
            throw error
        }
        await finder.close()
        let leader = status.leaderAddress.isEmpty ? (addresses.first ?? "") : status.leaderAddress
        guard let endpoint = RPCEndpoint(leader) else { throw RPCError(.unavailable, "the leader's address '\(leader)' is not HOST:PORT") }
        let client = RPCClient(endpoints: [endpoint], connections: connections, group: group, logger: logger)
        // Open every pooled connection (and check that the leader takes writes) before measuring.
        for _ in 0..<connections {
            _ = try await client.call(MetaAPI.put, MetaPutRequest(key: workload.nextKey(), value: workload.value), options: .timeout(.seconds(10)))
        }
        return BenchMetaTarget(leader: leader, client: client, workload: workload, group: group)
    }

    func run(concurrency: Int, recorder: BenchLatencyRecorder) async throws {
        let lanes = (0..<concurrency).map { _ in self.group.next().makePromise(of: Void.self) }
        for lane in lanes {
            self.issue(recorder: recorder, done: lane)
        }
        for lane in lanes {
            try await lane.futureResult.get()
        }
    }

    /// One write in flight per lane, the next issued from the previous one's completion. A
    /// failed write is counted and the lane pauses 10 ms (a leader change) before the next.
    private func issue(recorder: BenchLatencyRecorder, done: EventLoopPromise<Void>) {
        guard recorder.shouldIssue() else {
            done.succeed()
            return
        }
        let start = NIODeadline.now()
        let request = MetaPutRequest(key: self.workload.nextKey(), value: self.workload.value)
        self.client.callFuture(MetaAPI.put, request, options: .timeout(.seconds(10))).whenComplete { result in
            switch result {
            case .success:
                recorder.recordSuccess(since: start)
                self.issue(recorder: recorder, done: done)
            case .failure:
                recorder.recordFailure()
                done.futureResult.eventLoop.scheduleTask(in: .milliseconds(10)) {
                    self.issue(recorder: recorder, done: done)
                }
            }
        }
    }

    func close() async {
        await self.client.shutdown()
    }
}
