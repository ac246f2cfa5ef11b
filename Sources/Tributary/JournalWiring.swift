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
/// directory, its ``JournalService`` for the node's router, and the lifecycle service that
/// closes it on shutdown. Other in-process roles (the broker) reach the store directly or
/// through ``Role/localClient``, a ``JournalClient`` over an ``InProcessTransport``.
enum JournalWiring {
    /// Threads doing the shards' file IO and fsyncs.
    static let ioThreads = 4

    /// The running journal role of this process.
    struct Role: Sendable {
        /// This node's shards.
        let store: ShardStore
        /// The thread pool the store's file IO runs on (owned by the role).
        let threadPool: NIOThreadPool
        /// A client of this process's journal that goes through no socket.
        let localClient: JournalClient

        /// The RPC service over the store.
        var service: JournalService { JournalService(store: store) }

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
    /// - Parameter localMeta: the meta node running in this process (standalone), if any.
    static func start(config: TributaryConfig, assembly: NodeAssembly, localMeta: MetaNode?, logger: Logger) async throws -> Role {
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
        var router = RPCRouter()
        JournalService(store: store).register(into: &router)
        let client = JournalClient(transport: InProcessTransport(router: router, logger: Logger(label: "tributary.journal.local")))
        assembly.readiness.set("journal", ready: true)
        return Role(store: store, threadPool: threadPool, localClient: client)
    }
}
