import Foundation
import Logging
import MetaService
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import JournalServer
@testable import Shared

/// One single-voter meta node (in-process transport) and several journal nodes, each a real
/// ``ShardStore`` behind ``JournalService`` on a loopback ``RPCServer``, registered in meta under
/// `/nodes/journal/<id>` like `tributary journal` does.
final class JournalTestCluster: Sendable {
    struct Node: Sendable {
        let fixture: ShardTestStore
        let store: ShardStore
        let server: RPCServer
        let address: String
    }

    static let logger = Logger(label: "journal-cluster-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    let metaDirectory: String
    let metaNode: MetaNode
    let meta: MetaClient
    let fixtures: [UInt64: ShardTestStore]
    let running = Mutex<[UInt64: Node]>([:])

    private init(metaDirectory: String, metaNode: MetaNode, meta: MetaClient, fixtures: [UInt64: ShardTestStore]) {
        self.metaDirectory = metaDirectory
        self.metaNode = metaNode
        self.meta = meta
        self.fixtures = fixtures
    }

    /// Runs `body` with a cluster of `nodes` journal nodes (ids 1…nodes), then stops everything
    /// and removes its files.
    static func with<T>(nodes: Int, _ body: (JournalTestCluster) async throws -> T) async throws -> T {
        let metaDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("tributary-jmeta-\(UUID().uuidString)").path
        let metaNode = try MetaNode(
            configuration: MetaNode.Configuration(
                id: 1, address: "meta-1", peers: [1: "meta-1"], dataDirectory: metaDirectory, bootstrap: true,
                tickInterval: .milliseconds(20)),
            eventLoop: MultiThreadedEventLoopGroup.singleton.next(), logger: logger
        ) { _ in InProcessTransport(router: RPCRouter(), logger: logger) }
        var router = RPCRouter()
        metaNode.register(into: &router)
        let transport = InProcessTransport(router: router, logger: logger)
        let meta = MetaClient(addresses: ["meta-1"]) { _ in transport }
        metaNode.start()
        var fixtures: [UInt64: ShardTestStore] = [:]
        for id in 1...UInt64(nodes) { fixtures[id] = ShardTestStore() }
        let cluster = JournalTestCluster(metaDirectory: metaDirectory, metaNode: metaNode, meta: meta, fixtures: fixtures)
        do {
            for id in fixtures.keys.sorted() { try await cluster.startNode(id) }
            let result = try await body(cluster)
            await cluster.shutdown()
            return result
        } catch {
            await cluster.shutdown()
            throw error
        }
    }

    /// Opens node `id`'s store (its data survives restarts), serves it on a fresh loopback port
    /// and registers that address in meta.
    func startNode(_ id: UInt64) async throws {
        let fixture = try #require(fixtures[id])
        let store = try await fixture.open()
        var router = RPCRouter()
        JournalService(store: store, catalog: MetaShardCatalog(client: meta, nodeID: id)).register(into: &router)
        let server = RPCServer(configuration: .init(host: "127.0.0.1", port: 0), router: router, logger: Self.logger)
        let port = try #require(try await server.start().port)
        let address = "127.0.0.1:\(port)"
        running.withLock { $0[id] = Node(fixture: fixture, store: store, server: server, address: address) }
        _ = try await meta.put(JournalClusterView.nodePrefix + "\(id)", Array(address.utf8))
    }

    /// Stops node `id` (its socket closes, its store is closed) and removes its registration
    /// (as the expiry of its lease would).
    func stopNode(_ id: UInt64) async throws {
        guard let node = running.withLock({ $0.removeValue(forKey: id) }) else { return }
        await node.server.shutdown()
        try await node.store.close().get()
        _ = try await meta.delete(JournalClusterView.nodePrefix + "\(id)")
    }

    /// Node `id`'s store, while it runs.
    func store(_ id: UInt64) throws -> ShardStore {
        try #require(running.withLock { $0[id]?.store })
    }

    /// A cluster client with RPC connections to the journal nodes.
    func client(timeout: TimeAmount = .seconds(15)) -> JournalClusterClient {
        JournalClusterClient(
            meta: meta, options: .init(timeout: timeout, attemptTimeout: .seconds(2), backoff: .milliseconds(20)), logger: Self.logger
        ) { address in
            RPCClient(endpoints: RPCEndpoint(address).map { [$0] } ?? [], logger: Self.logger)
        }
    }

    func shutdown() async {
        for id in running.withLock({ Array($0.keys) }) { try? await stopNode(id) }
        await metaNode.shutdown()
        for fixture in fixtures.values {
            try? await fixture.threadPool.shutdownGracefully()
            try? FileManager.default.removeItem(atPath: fixture.dataDirectory)
        }
        try? FileManager.default.removeItem(atPath: metaDirectory)
    }
}
