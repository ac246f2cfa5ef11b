import JournalServer
import NIOCore
import Shared

/// The load of `tributary bench journal`: lanes of back-to-back appends of fixed-size records,
/// spread over the benchmark's shards, each lane issuing its next append from the previous
/// one's completion (no task per append).
final class BenchJournalTarget: Sendable {
    let client: JournalClient
    let shards: [String]
    let group: any EventLoopGroup
    private let records: [Record]

    init(client: JournalClient, shards: [String], recordSize: Int, batch: Int, group: any EventLoopGroup) {
        self.client = client
        self.shards = shards
        self.group = group
        let value = ByteBuffer(repeating: UInt8(ascii: "x"), count: recordSize)
        let key = ByteBuffer(string: "bench")
        self.records = (0..<batch).map { _ in Record(timestamp: 0, key: key, value: value) }
    }

    /// Keeps `concurrency` appends in flight until `recorder` says the run is over; returns once
    /// every lane's last append has completed.
    func run(concurrency: Int, recorder: BenchLatencyRecorder) async throws {
        let lanes = (0..<concurrency).map { _ in self.group.next().makePromise(of: Void.self) }
        for (index, lane) in lanes.enumerated() {
            self.issue(shard: self.shards[index % self.shards.count], recorder: recorder, done: lane)
        }
        for lane in lanes {
            try await lane.futureResult.get()
        }
    }

    /// One append in flight per lane. A failed append is counted and the lane pauses 10 ms
    /// before its next one.
    private func issue(shard: String, recorder: BenchLatencyRecorder, done: EventLoopPromise<Void>) {
        guard recorder.shouldIssue() else {
            done.succeed()
            return
        }
        let start = NIODeadline.now()
        var stamped = self.records
        let now = SegmentLog.systemClock()
        for index in stamped.indices { stamped[index].timestamp = now }
        self.client.appendFuture(shard: shard, records: stamped, options: .timeout(.seconds(30))).whenComplete { result in
            switch result {
            case .success:
                recorder.recordSuccess(since: start)
                self.issue(shard: shard, recorder: recorder, done: done)
            case .failure:
                recorder.recordFailure()
                done.futureResult.eventLoop.scheduleTask(in: .milliseconds(10)) {
                    self.issue(shard: shard, recorder: recorder, done: done)
                }
            }
        }
    }

    /// The records the shards hold (their end offsets summed), read back after the run.
    func storedRecords() async throws -> Int64 {
        var total: Int64 = 0
        for shard in self.shards {
            let description = try await self.client.describeShard(shard, options: .timeout(.seconds(30)))
            total += description.endOffset - description.startOffset
        }
        return total
    }
}
