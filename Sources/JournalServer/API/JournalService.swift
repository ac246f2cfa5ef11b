import Logging
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

    /// Creates the service.
    public init(store: ShardStore) {
        self.init(store: store, catalog: nil)
    }

    /// Creates the service recording shards in `catalog`: a create answers once the shard is
    /// open here and recorded there; describe adds the record when it can be read.
    public init(store: ShardStore, catalog: (any ShardCatalog)?) {
        self.store = store
        self.catalog = catalog
    }

    /// Registers every ``JournalAPI`` method on `router`.
    public func register(into router: inout RPCRouter) {
        let store = self.store
        let catalog = self.catalog
        router.register(JournalAPI.createShard) { request, context in
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
            store.append(shard: request.shard, records: request.records).map {
                JournalAppendResponse(baseOffset: $0.baseOffset, lastOffset: $0.lastOffset)
            }.answer(on: context)
        }
        router.register(JournalAPI.read) { request, context in
            let maxBytes = min(max(request.maxBytes, 1), JournalAPI.maxReadBytes)
            switch request.start {
            case .offset(let offset):
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

extension EventLoopFuture where Value: Sendable {
    /// Hops to the call's loop and maps store errors to ``RPCError``s.
    fileprivate func answer(on context: RPCCallContext) -> EventLoopFuture<Value> {
        hop(to: context.eventLoop).flatMapErrorThrowing { error in
            throw ShardStoreError.rpcError(from: error)
        }
    }
}
