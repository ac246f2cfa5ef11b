import ArgumentParser
import Foundation
import JournalServer
import Logging
import MetaService
import NIOCore
import NIOPosix
import ServiceLifecycle
import Shared

/// Starts the journal role in a node process: the ``ShardStore`` under the node's data
/// directory, its ``JournalService`` for the node's router (recording shards in meta), and the
/// lifecycle service that closes it on shutdown. Other in-process roles (the broker) reach the
/// store directly or through ``Role/localClient``, a ``JournalClient`` over an
/// ``InProcessTransport``.
enum JournalWiring {
    /// Threads doing the shards' file IO and fsyncs.
    static let ioThreads = 4

    /// The running journal role of this process.
    struct Role: Sendable {
        /// This node's shards.
        let store: ShardStore
        /// The thread pool the store's file IO runs on (owned by the role).
        let threadPool: NIOThreadPool
        /// Where shards are recorded (the meta key space), if anywhere.
        let catalog: (any ShardCatalog)?
        /// A client of this process's journal that goes through no socket.
        let localClient: JournalClient
        /// This node's replicas of replicated shards' segments (journal-only nodes).
        var replicas: ReplicatedSegmentStore? = nil
        /// The node's view of the journal cluster (journal-only nodes): shard records and node
        /// addresses, connections to the other nodes.
        var cluster: JournalClusterClient? = nil

        /// The RPC service over the store.
        var service: JournalService { JournalService(store: store, catalog: catalog, replicas: replicas) }

        /// Registers ``JournalAPI`` on the node's router.
        func register(into router: inout RPCRouter) {
            service.register(into: &router)
        }

        /// The lifecycle service: keeps the role until graceful shutdown, then closes the store.
        var lifecycle: RoleService { RoleService(role: self) }
    }

    /// Closes the store (every tail ends, every shard flushes) on graceful shutdown.
    struct RoleService: Service {
        let role: Role

        func run() async throws {
            try? await gracefulShutdown()
            await role.replicas?.close()
            await role.cluster?.close()
            do {
                try await role.store.close().get()
            } catch {
                Logger(label: "tributary.journal").error("closing the journal failed", metadata: ["error": "\(error)"])
            }
            try? await role.threadPool.shutdownGracefully()
        }
    }

    /// Opens every shard under the node's data directory (readiness component `journal` turns
    /// ready once they are open).
    ///
    /// - Parameters:
    ///   - localMeta: the meta node running in this process (standalone): shards are recorded
    ///     in it through an in-process ``MetaClient``.
    ///   - remoteMeta: a client of the meta cluster (a journal-only node), used when there is no
    ///     local meta node.
    static func start(
        config: TributaryConfig, assembly: NodeAssembly, localMeta: MetaNode?, remoteMeta: MetaClient? = nil, logger: Logger
    ) async throws -> Role {
        assembly.readiness.register("journal")
        let threadPool = NIOThreadPool(numberOfThreads: ioThreads)
        threadPool.start()
        let store: ShardStore
        do {
            store = try await ShardStore.open(
                dataDirectory: assembly.dataDirectory.path, eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
                threadPool: threadPool, logger: logger
            ).get()
        } catch {
            try? await threadPool.shutdownGracefully()
            FileHandle.standardError.write(Data("tributary: cannot open the journal shards: \(error)\n".utf8))
            throw ExitCode(74)
        }
        store.startRetention()
        var metaClient = remoteMeta
        if let localMeta {
            var metaRouter = RPCRouter()
            localMeta.register(into: &metaRouter)
            let transport = InProcessTransport(router: metaRouter, logger: Logger(label: "tributary.journal.meta"))
            metaClient = MetaClient(addresses: [config.rpc.listener.description]) { _ in transport }
        }
        let nodeID = UInt64(max(config.node.id, 0))
        let catalog = metaClient.map { MetaShardCatalog(client: $0, nodeID: nodeID) }
        // A journal-only node also holds replicas of replicated shards' segments.
        var cluster: JournalClusterClient?
        var replicas: ReplicatedSegmentStore?
        if localMeta == nil, let remoteMeta {
            let clientTLS = try? config.rpc.tls.makeClientContext()
            let made = JournalClusterClient(meta: remoteMeta, logger: logger) { address in
                var configuration = RPCClientConfiguration(endpoints: RPCEndpoint(address).map { [$0] } ?? [])
                configuration.tls = clientTLS
                return RPCClient(configuration: configuration, logger: Logger(label: "tributary.journal.peer"))
            }
            cluster = made
            replicas = ReplicatedSegmentStore(
                nodeID: nodeID, dataDirectory: assembly.dataDirectory.path, eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
                threadPool: threadPool, logger: logger
            ) { peer in made.transport(toNode: peer) }
        }
        var router = RPCRouter()
        JournalService(store: store, catalog: catalog, replicas: replicas).register(into: &router)
        let client = JournalClient(transport: InProcessTransport(router: router, logger: Logger(label: "tributary.journal.local")))
        assembly.readiness.set("journal", ready: true)
        return Role(store: store, threadPool: threadPool, catalog: catalog, localClient: client, replicas: replicas, cluster: cluster)
    }

    /// Runs the node's segment placement duties until graceful shutdown: opening the replicas
    /// meta assigns to it, and (on the lowest-id live node) the ``SegmentController``.
    struct ReplicationService: Service {
        let nodeID: UInt64
        let replicas: ReplicatedSegmentStore
        let cluster: JournalClusterClient
        let logger: Logger

        func run() async throws {
            let assignment = SegmentAssignmentService(nodeID: nodeID, replicas: replicas, cluster: cluster, logger: logger)
            let controller = SegmentController(nodeID: nodeID, cluster: cluster, logger: logger)
            await cancelWhenGracefulShutdown {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await assignment.run() }
                    group.addTask { await controller.run() }
                }
            }
        }
    }
}

/// Keeps this journal node registered in meta under `/nodes/journal/<id>` (a ``NodeRecord``)
/// with a lease (``NodeRegistration``): grants it, writes the record, renews it every third of
/// its TTL (re-registering if it was lost), and revokes it on graceful shutdown.
struct JournalRegistrationService: Service {
    let client: MetaClient
    let nodeID: Int
    let address: String
    let ttlMillis: UInt64
    let readiness: NodeReadiness
    let logger: Logger
    /// When given and `address`'s port is 0, the RPC listener's bound port is advertised.
    var listenerPorts: ListenerPorts? = nil

    var key: String { NodeRecord.key(role: "journal", id: UInt64(max(nodeID, 0))) }

    func run() async throws {
        let started = NodeRegistration.nowMillis()
        let readiness = self.readiness
        await cancelWhenGracefulShutdown {
            var advertised = address
            if let listenerPorts, let endpoint = RPCEndpoint(address), endpoint.port == 0 {
                guard let port = await listenerPorts.port("rpc") else { return }
                advertised = "\(endpoint.host):\(port)"
            }
            let record = NodeRecord(role: "journal", id: UInt64(max(nodeID, 0)), address: advertised, startedAtMillis: started)
            let registration = NodeRegistration(client: client, record: record, ttlMillis: ttlMillis, logger: logger)
            await registration.run { registered in readiness.set("journal-registration", ready: registered) }
        }
        await client.close()
    }
}
