import Logging
import Synchronization
import NIOCore
import Shared

/// Serves ``JournalAPI`` from a ``ShardStore``: register it on the node's ``RPCRouter``.
///
/// Handlers are future-based and run on the call's event loop; an append answers when the
/// store acknowledges it (durable), and a tail pushes the store's tail batches into the
/// stream, one item per delivered batch, waiting for the caller's credit before the next.
public struct JournalService: Sendable {
    /// The store served.
    public let store: ShardStore
    /// Where created and deleted shards are recorded (the meta key space), if anywhere.
    public let catalog: (any ShardCatalog)?
    /// This node's replicas of placement segments: appends, reads and describes of a shard
    /// this node holds replicas of go to them instead of the local single-replica store.
    public let replicas: ReplicatedSegmentStore?

    /// Creates the service.
    public init(store: ShardStore) {
        self.init(store: store, catalog: nil)
    }

    /// Creates the service recording shards in `catalog`: a create answers once the shard is
    /// open here and recorded there; describe adds the record when it can be read.
    public init(store: ShardStore, catalog: (any ShardCatalog)?, replicas: ReplicatedSegmentStore? = nil) {
        self.store = store
        self.catalog = catalog
        self.replicas = replicas
    }

    /// Registers every ``JournalAPI`` method on `router`.
    public func register(into router: inout RPCRouter) {
        let store = self.store
        let catalog = self.catalog
        let replicas = self.replicas
        replicas?.register(into: &router)
        router.register(JournalAPI.createShard) { request, context in
            if request.settings.replicationFactor > 1, replicas != nil, let catalog {
                // Replicated: recorded as pending; the segment controller places it.
                return context.eventLoop.makeFutureWithTask {
                    try ShardStoreError.validate(shardName: request.shard)
                    let record = try await catalog.shardRequested(request.shard, settings: request.settings)
                    return ShardDescription(
                        name: request.shard, settings: request.settings, startOffset: record.segments.first?.baseOffset ?? 0,
                        endOffset: record.segments.first?.baseOffset ?? 0, state: .active, segments: [], catalog: record)
                }.answer(on: context)
            }
            let created = store.create(shard: request.shard, settings: request.settings)
            guard let catalog else { return created.answer(on: context) }
            return created.hop(to: context.eventLoop).flatMap { description in
                context.eventLoop.makeFutureWithTask {
                    var described = description
                    do {
                        described.catalog = try await catalog.shardCreated(description)
                    } catch {
                        throw RPCError(.unavailable, "shard '\(request.shard)' was created here but not recorded in meta (retry the create): \(error)")
                    }
                    return described
                }
            }.answer(on: context)
        }
        router.register(JournalAPI.deleteShard) { request, context in
            let deleted = store.delete(shard: request.shard)
            guard let catalog else { return deleted.map { RPCEmpty() }.answer(on: context) }
            return deleted.hop(to: context.eventLoop).flatMap {
                context.eventLoop.makeFutureWithTask {
                    do {
                        try await catalog.shardDeleted(request.shard)
                    } catch {
                        throw RPCError(.unavailable, "shard '\(request.shard)' was deleted here but its meta record remains: \(error)")
                    }
                    return RPCEmpty()
                }
            }.answer(on: context)
        }
        router.register(JournalAPI.listShards) { _, context in
            context.eventLoop.makeSucceededFuture(JournalShardList(shards: store.list()))
        }
        router.register(JournalAPI.describeShard) { request, context in
            if let replicas, !replicas.replicas(of: request.shard).isEmpty {
                return replicas.describe(shard: request.shard, catalog: catalog).hop(to: context.eventLoop)
            }
            let described = store.describe(shard: request.shard)
            guard let catalog else { return described.answer(on: context) }
            return described.hop(to: context.eventLoop).flatMap { description in
                context.eventLoop.makeFutureWithTask {
                    var described = description
                    // The local description stands on its own when meta cannot be read.
                    described.catalog = try? await catalog.metadata(shard: request.shard)
                    return described
                }
            }.answer(on: context)
        }
        router.register(JournalAPI.append) { request, context in
            if let segment = replicas?.appendTarget(shard: request.shard) {
                return segment.append(records: request.records, policy: request.ackPolicy ?? .quorum).hop(to: context.eventLoop)
            }
            return store.append(shard: request.shard, records: request.records).map {
                JournalAppendResponse(baseOffset: $0.baseOffset, lastOffset: $0.lastOffset)
            }.answer(on: context)
        }
        router.register(JournalAPI.read) { request, context in
            let maxBytes = min(max(request.maxBytes, 1), JournalAPI.maxReadBytes)
            switch request.start {
            case .offset(let offset):
                if let segment = replicas?.readTarget(shard: request.shard, offset: offset) {
                    return segment.read(from: offset, maxBytes: maxBytes).hop(to: context.eventLoop)
                }
                return store.read(shard: request.shard, from: offset, maxBytes: maxBytes).answer(on: context)
            case .timestamp(let timestamp):
                return store.offset(shard: request.shard, forTimestamp: timestamp).flatMap { offset in
                    if let offset {
                        return store.read(shard: request.shard, from: offset, maxBytes: maxBytes)
                    }
                    return store.describe(shard: request.shard).map { description in
                        ShardReadResult(
                            records: [], nextOffset: description.endOffset, startOffset: description.startOffset,
                            endOffset: description.endOffset)
                    }
                }.answer(on: context)
            }
        }
        router.register(JournalAPI.tail) { request, writer, context in
            do {
                let filter = request.filters.isEmpty ? nil : try TopicFilterSet(request.filters)
                let replicated = request.fromOffset.map { replicas?.readTarget(shard: request.shard, offset: $0) }
                    ?? replicas?.appendTarget(shard: request.shard)
                if let segment = replicated {
                    let cancelled = TailCancellation()
                    context.onCancel { _ in cancelled.flag.withLock { $0 = true } }
                    return segment.tail(
                        from: request.fromOffset, filter: filter, maxBytes: ShardStore.defaultTailReadBytes,
                        isCancelled: { cancelled.flag.withLock { $0 } }, send: { writer.send($0) }
                    ).hop(to: context.eventLoop)
                }
                let tail = try store.subscribe(shard: request.shard, from: request.fromOffset, filter: filter) { batch in
                    writer.send(batch)
                }
                context.onCancel { _ in tail.cancel() }
                return tail.completion.answer(on: context)
            } catch {
                return context.eventLoop.makeFailedFuture(ShardStoreError.rpcError(from: error))
            }
        }
    }
}

/// Set when a replicated tail's caller cancels the stream.
private final class TailCancellation: Sendable {
    let flag = Mutex(false)
}

extension EventLoopFuture where Value: Sendable {
    /// Hops to the call's loop and maps store errors to ``RPCError``s.
    fileprivate func answer(on context: RPCCallContext) -> EventLoopFuture<Value> {
        hop(to: context.eventLoop).flatMapErrorThrowing { error in
            throw ShardStoreError.rpcError(from: error)
        }
    }
}
