import NIOCore
import Shared

extension ReplicatedSegmentStore {
    /// Describes `shard` from this node's replicas of it: start = the oldest replica's base
    /// offset, end = the newest replica's high watermark, one entry per local segment replica
    /// (its stored bytes), with the meta record when `catalog` can read it.
    public func describe(shard: String, catalog: (any ShardCatalog)?) -> EventLoopFuture<ShardDescription> {
        let held = replicas(of: shard)
        let loop = eventLoopGroup.any()
        guard let newest = held.last, let oldest = held.first else {
            return loop.makeFailedFuture(RPCError(.notFound, "unknown shard '\(shard)'"))
        }
        return newest.highWatermark.hop(to: loop).flatMap { end in
            loop.makeFutureWithTask {
                let record = try? await catalog?.metadata(shard: shard)
                let segments = held.map { replica in
                    let files = (try? ShardFiles.segments(directory: replica.log.directory)) ?? []
                    return ShardDescription.Segment(baseOffset: replica.baseOffset, sizeInBytes: files.reduce(0) { $0 + $1.sizeInBytes })
                }
                return ShardDescription(
                    name: shard, settings: newest.settings, startOffset: oldest.baseOffset, endOffset: end, state: .active,
                    segments: segments, catalog: record)
            }
        }
    }
}
