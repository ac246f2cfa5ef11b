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

    /// Creates the service.
    public init(store: ShardStore) {
        self.store = store
    }

    /// Registers every ``JournalAPI`` method on `router`.
    public func register(into router: inout RPCRouter) {
        let store = self.store
        router.register(JournalAPI.createShard) { request, context in
            store.create(shard: request.shard, settings: request.settings).answer(on: context)
        }
        router.register(JournalAPI.deleteShard) { request, context in
            store.delete(shard: request.shard).map { RPCEmpty() }.answer(on: context)
        }
        router.register(JournalAPI.listShards) { _, context in
            context.eventLoop.makeSucceededFuture(JournalShardList(shards: store.list()))
        }
        router.register(JournalAPI.describeShard) { request, context in
            store.describe(shard: request.shard).answer(on: context)
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
