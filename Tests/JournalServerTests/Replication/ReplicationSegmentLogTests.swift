import NIOCore
import NIOPosix
import Testing

@testable import JournalServer

/// The state machines' actions performed on real `SegmentLog`s: the leader's batches are stored
/// with `appendReplicated(encoded:)` on every replica, followers end up byte-identical to the
/// leader, and a follower's epoch-start truncation works on a real log.
@Suite struct ReplicationSegmentLogTests {
    typealias S = ReplicationTestSupport

    static func open(_ directory: String, base: Int64) async throws -> SegmentLog {
        try await SegmentLog.open(
            directory: directory,
            configuration: SegmentLogConfiguration(maxSegmentAgeMilliseconds: nil, durability: .never),
            threadPool: NIOThreadPool.singleton, eventLoop: MultiThreadedEventLoopGroup.singleton.next(),
            logger: StorageTestSupport.logger, initialOffset: base
        ).get()
    }

    /// Performs follower actions on its log; returns messages for the leader.
    static func perform(_ actions: [SegmentReplicaFollower.Action], on log: SegmentLog) async throws -> [ReplicationMessage] {
        var out: [ReplicationMessage] = []
        for action in actions {
            switch action {
            case .appendLocally(let batch): _ = try await log.appendReplicated(encoded: batch.bytes).get()
            case .truncate(let offset): _ = try await log.truncate(to: offset).get()
            case .send(_, let message): out.append(message)
            case .replySeal, .highWatermarkAdvanced: break
            }
        }
        return out
    }

    @Test func followersStoreExactlyWhatTheLeaderStored() async throws {
        try await StorageTestSupport.withTemporaryDirectory { directory in
            let base: Int64 = 100
            let leaderLog = try await Self.open(directory + "/leader", base: base)
            let followerLogs = [
                S.followerA: try await Self.open(directory + "/a", base: base),
                S.followerB: try await Self.open(directory + "/b", base: base),
            ]
            var leader = S.leader(base: base, maxInFlightBytes: 400, maxPushBytes: 200)
            var followers = [
                S.followerA: SegmentReplicaFollower(segmentID: S.segment, replicaID: S.followerA, epoch: 5, leaderID: S.leaderID, logEnd: base),
                S.followerB: SegmentReplicaFollower(segmentID: S.segment, replicaID: S.followerB, epoch: 5, leaderID: S.leaderID, logEnd: base),
            ]
            var queue: [SegmentReplicaLeader.Action] = []
            var succeeded: [UInt64: ClosedRange<Int64>] = [:]
            for request in 0..<12 {
                queue += leader.handle(.append(requestID: UInt64(request), records: S.records("m\(request)", 1 + request % 3), policy: .quorum))
            }
            // Run the actions to a fixed point: local appends, pushes, follower fsyncs and acks.
            var rounds = 0
            while !queue.isEmpty, rounds < 100 {
                rounds += 1
                var next: [SegmentReplicaLeader.Action] = []
                for action in queue {
                    switch action {
                    case .appendLocally(let batch):
                        let result = try await leaderLog.appendReplicated(encoded: batch.bytes).get()
                        #expect(result.baseOffset == batch.baseOffset && result.lastOffset == batch.lastOffset)
                    case .send(let to, let push):
                        guard var follower = followers[to], let log = followerLogs[to] else { continue }
                        var replies = try await Self.perform(follower.handle(.push(push)), on: log)
                        try await log.flush().get()
                        replies += try await Self.perform(follower.handle(.localDurable(end: log.logEndOffset)), on: log)
                        followers[to] = follower
                        for reply in replies {
                            switch reply {
                            case .ack(let ack): next += leader.handle(.ack(ack))
                            case .reject(let reject): next += leader.handle(.reject(reject))
                            default: Issue.record("unexpected reply \(reply)")
                            }
                        }
                    case .appendSucceeded(let id, let first, let last):
                        succeeded[id] = first...last
                    case .appendFailed(let id, let error):
                        Issue.record("append \(id) failed: \(error)")
                    case .followerTooFarBehind(let id):
                        Issue.record("follower \(id) cut off")
                    case .highWatermarkAdvanced:
                        break
                    }
                }
                try await leaderLog.flush().get()
                next += leader.handle(.localDurable(end: leaderLog.logEndOffset))
                queue = next
            }
            #expect(succeeded.count == 12)
            #expect(leader.highWatermark == leaderLog.logEndOffset)
            let expected = try await StorageTestSupport.readAll(leaderLog, from: base)
            #expect(expected.count == 24)
            #expect(expected.first?.offset == base)
            for (id, log) in followerLogs.sorted(by: { $0.key < $1.key }) {
                #expect(try await StorageTestSupport.readAll(log, from: base) == expected, "follower \(id)")
                let leaderBytes = try await leaderLog.read(from: base, maxBytes: 1 << 20).get().bytes
                let followerBytes = try await log.read(from: base, maxBytes: 1 << 20).get().bytes
                #expect(leaderBytes == followerBytes)
            }
            for (id, range) in succeeded {
                let values = expected.filter { range.contains($0.offset) }.map { $0.value.map { String(buffer: $0) } }
                #expect(values == S.records("m\(id)", 1 + Int(id) % 3).map { $0.value.map { String(buffer: $0) } })
            }
            for log in [leaderLog] + followerLogs.values { try await log.close().get() }
        }
    }

    @Test func epochStartTruncationDropsTheOldTailOnARealLog() async throws {
        try await StorageTestSupport.withTemporaryDirectory { directory in
            let log = try await Self.open(directory + "/f", base: 0)
            var follower = SegmentReplicaFollower(segmentID: S.segment, replicaID: S.followerA, epoch: 5, leaderID: S.leaderID, logEnd: 0)
            let old = [try S.batch("a", 2, base: 0), try S.batch("b", 2, base: 2)]
            _ = try await Self.perform(follower.handle(.push(S.push(old))), on: log)
            try await log.flush().get()
            _ = try await Self.perform(follower.handle(.localDurable(end: log.logEndOffset)), on: log)
            #expect(log.logEndOffset == 4)
            let fresh = try S.batch("n", 3, base: 2, epoch: 6)
            let replies = try await Self.perform(follower.handle(.push(S.push([fresh], epoch: 6, leader: 4, epochStart: 2))), on: log)
            #expect(replies.isEmpty)
            #expect(log.logEndOffset == 5)
            let values = try await StorageTestSupport.readAll(log, from: 0).map { $0.value.map { String(buffer: $0) } }
            #expect(values == ["a-0", "a-1", "n-0", "n-1", "n-2"])
            try await log.close().get()
        }
    }
}
