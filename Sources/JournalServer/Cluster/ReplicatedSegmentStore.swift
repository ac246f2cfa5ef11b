import Foundation
import Logging
import Synchronization
import NIOCore
import NIOPosix
import Shared

/// A journal node's replicas of placement segments: each in its own ``SegmentLog`` under
/// `<data>/journal/replicas/<shard>/<segmentID>-<baseOffset>/`, so a node may hold segment k and
/// k+2 of a shard but not k+1. Serves ``JournalReplicationAPI`` for them.
public final class ReplicatedSegmentStore: Sendable {
    struct Key: Hashable, Sendable {
        var shard: String
        var segmentID: UInt64
    }

    /// This node's id.
    public let nodeID: UInt64
    /// The node's data directory.
    public let dataDirectory: String
    let eventLoopGroup: any EventLoopGroup
    let threadPool: NIOThreadPool
    let logger: Logger
    let peers: @Sendable (UInt64) -> (any RPCTransport)?
    let replicas = Mutex<[Key: ReplicatedSegment]>([:])

    /// Creates the store; `peers` gives the transport to another journal node by id.
    public init(
        nodeID: UInt64, dataDirectory: String, eventLoopGroup: any EventLoopGroup, threadPool: NIOThreadPool, logger: Logger,
        peers: @escaping @Sendable (UInt64) -> (any RPCTransport)?
    ) {
        self.nodeID = nodeID
        self.dataDirectory = dataDirectory
        self.eventLoopGroup = eventLoopGroup
        self.threadPool = threadPool
        self.logger = logger
        self.peers = peers
    }

    /// The directory of a segment replica's log.
    public func directory(shard: String, segmentID: UInt64, baseOffset: Int64) -> String {
        "\(dataDirectory)/journal/replicas/\(shard)/\(segmentID)-\(baseOffset)"
    }

    /// Opens (creating if needed) this node's replica of a segment in `role` at `epoch`, or
    /// returns the one already open.
    public func open(
        shard: String, segmentID: UInt64, baseOffset: Int64, epoch: Int32, role: ReplicatedSegment.Role,
        settings: ShardSettings = ShardSettings(),
        leaderConfiguration: @escaping @Sendable (SegmentReplicaLeaderConfiguration) -> SegmentReplicaLeaderConfiguration = { $0 }
    ) async throws -> ReplicatedSegment {
        let key = Key(shard: shard, segmentID: segmentID)
        if let open = replicas.withLock({ $0[key] }) { return open }
        let directory = directory(shard: shard, segmentID: segmentID, baseOffset: baseOffset)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let log = try await SegmentLog.open(
            directory: directory, configuration: settings.logConfiguration, threadPool: threadPool,
            eventLoop: eventLoopGroup.next(), logger: logger, initialOffset: baseOffset
        ).get()
        let replica: ReplicatedSegment
        do {
            replica = try ReplicatedSegment(
                shard: shard, segmentID: segmentID, baseOffset: baseOffset, nodeID: nodeID, epoch: epoch, role: role, log: log,
                settings: settings, leaderConfiguration: leaderConfiguration, logger: logger, peers: peers)
        } catch {
            try? await log.close().get()
            throw error
        }
        let winner = replicas.withLock { replicas -> ReplicatedSegment in
            if let existing = replicas[key] { return existing }
            replicas[key] = replica
            return replica
        }
        if winner !== replica {
            try? await replica.log.close().get()
            return winner
        }
        replica.start()
        return replica
    }

    /// The open replica of a shard's segment, if any.
    public func replica(shard: String, segmentID: UInt64) -> ReplicatedSegment? {
        replicas.withLock { $0[Key(shard: shard, segmentID: segmentID)] }
    }

    /// This node's replicas of `shard`, by segment id.
    public func replicas(of shard: String) -> [ReplicatedSegment] {
        replicas.withLock { $0.values.filter { $0.shard == shard } }.sorted { $0.segmentID < $1.segmentID }
    }

    /// The replica appends of `shard` go to here: this node's replica of the shard's newest
    /// segment it holds, when it leads it (`nil` when the node holds no replica of the shard).
    public func appendTarget(shard: String) -> ReplicatedSegment? {
        replicas(of: shard).last
    }

    /// This node's replica of the segment of `shard` holding `offset` (the newest one based at
    /// or before it), if the node holds it.
    public func readTarget(shard: String, offset: Int64) -> ReplicatedSegment? {
        replicas(of: shard).last { $0.baseOffset <= offset }
    }

    /// Closes every replica.
    public func close() async {
        let all = replicas.withLock { replicas in
            defer { replicas = [:] }
            return Array(replicas.values)
        }
        for replica in all { try? await replica.close().get() }
    }

    /// Registers ``JournalReplicationAPI`` on `router`.
    public func register(into router: inout RPCRouter) {
        router.register(JournalReplicationAPI.replicate) { request, context in
            guard case .push(let push) = request.message else {
                return context.eventLoop.makeFailedFuture(RPCError(.invalidArgument, "journal.replicate carries a push"))
            }
            guard let replica = self.replica(shard: request.shard, segmentID: push.segmentID) else {
                return context.eventLoop.makeFailedFuture(
                    RPCError(.notFound, "no replica of segment \(push.segmentID) of '\(request.shard)' on node \(self.nodeID)"))
            }
            return replica.receive(push).hop(to: context.eventLoop)
        }
        router.register(JournalReplicationAPI.seal) { request, context in
            guard case .sealRequest(let seal) = request.message else {
                return context.eventLoop.makeFailedFuture(RPCError(.invalidArgument, "journal.sealSegment carries a seal request"))
            }
            guard let replica = self.replica(shard: request.shard, segmentID: seal.segmentID) else {
                return context.eventLoop.makeFailedFuture(
                    RPCError(.notFound, "no replica of segment \(seal.segmentID) of '\(request.shard)' on node \(self.nodeID)"))
            }
            return replica.seal(seal).map { ReplicationMessage.sealResponse($0) }.hop(to: context.eventLoop)
        }
    }
}
