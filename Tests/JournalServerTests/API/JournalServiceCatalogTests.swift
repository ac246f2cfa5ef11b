import Logging
import NIOCore
import Synchronization
import Testing

@testable import JournalServer
@testable import Shared

/// A catalog kept in memory, standing in for the meta key space.
final class MemoryShardCatalog: ShardCatalog {
    let records = Mutex<[String: ShardMetadata]>([:])
    let failing = Mutex(false)

    func shardCreated(_ description: ShardDescription) async throws -> ShardMetadata {
        if failing.withLock({ $0 }) { throw RPCError(.unavailable, "meta is down") }
        return records.withLock { records in
            if let existing = records[description.name] { return existing }
            let record = ShardMetadata(
                replicationFactor: description.settings.replicationFactor,
                segments: [.init(baseOffset: description.startOffset, replicas: [9], leader: 9, epoch: 1)])
            records[description.name] = record
            return record
        }
    }

    func shardDeleted(_ shard: String) async throws {
        if failing.withLock({ $0 }) { throw RPCError(.unavailable, "meta is down") }
        _ = records.withLock { $0.removeValue(forKey: shard) }
    }

    func metadata(shard: String) async throws -> ShardMetadata? {
        if failing.withLock({ $0 }) { throw RPCError(.unavailable, "meta is down") }
        return records.withLock { $0[shard] }
    }
}

@Suite("JournalService records shards in its catalog", .serialized)
struct JournalServiceCatalogTests {
    typealias S = ShardTestStore

    @Test("create records the shard, describe shows the record, delete removes it; meta failures are reported")
    func catalog() async throws {
        try await S.with { fixture in
            let store = try await fixture.open()
            let catalog = MemoryShardCatalog()
            var router = RPCRouter()
            JournalService(store: store, catalog: catalog).register(into: &router)
            let client = JournalClient(transport: InProcessTransport(router: router, logger: S.logger))

            let created = try await client.createShard("c", settings: ShardSettings(replicationFactor: 3))
            #expect(created.catalog?.replicationFactor == 3)
            #expect(created.catalog?.segments.first?.leader == 9)
            #expect(catalog.records.withLock { $0["c"] } != nil)
            let described = try await client.describeShard("c")
            #expect(described.catalog == created.catalog)

            catalog.failing.withLock { $0 = true }
            // Describe still answers from the local shard when meta cannot be read.
            let local = try await client.describeShard("c")
            #expect(local.catalog == nil && local.name == "c")
            await #expect { try await client.createShard("d") } throws: { error in
                guard let rpc = error as? RPCError else { return false }
                return rpc.code == .unavailable && rpc.message.contains("not recorded in meta")
            }
            catalog.failing.withLock { $0 = false }
            // Retrying the create is idempotent and records it.
            let retried = try await client.createShard("d")
            #expect(retried.catalog != nil)

            try await client.deleteShard("c")
            #expect(catalog.records.withLock { $0["c"] } == nil)
            try await store.close().get()
        }
    }
}
