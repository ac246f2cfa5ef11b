import ArgumentParser
import Foundation
import Logging
import MetaService
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Shared

/// Builds a ``MetaNode`` from a node's configuration; shared by `tributary meta` and
/// `tributary standalone` (which runs a single-voter meta group in-process).
enum MetaNodeWiring {
    static func makeNode(
        config: TributaryConfig,
        dataDirectory: DataDirectory,
        members: [RaftNodeID: String],
        bootstrap: Bool,
        tickMs: Int,
        snapshotInterval: Int,
        logger: Logger
    ) throws -> MetaNode {
        let clientTLS: NIOSSLContext?
        do {
            clientTLS = try config.rpc.tls.makeClientContext()
        } catch {
            FileHandle.standardError.write(Data("tributary: configuration refused: \(error)\n".utf8))
            throw ExitCode(78)
        }
        let nodeID = RaftNodeID(config.node.id)
        do {
            return try MetaNode(
                configuration: MetaNode.Configuration(
                    id: nodeID, address: members[nodeID] ?? config.rpc.listener.description, peers: members,
                    dataDirectory: dataDirectory.path + "/meta", bootstrap: bootstrap,
                    tickInterval: .milliseconds(Int64(tickMs)),
                    snapshotInterval: UInt64(snapshotInterval)
                ),
                eventLoop: MultiThreadedEventLoopGroup.singleton.next(),
                logger: logger
            ) { address in
                var configuration = RPCClientConfiguration(endpoints: RPCEndpoint(address).map { [$0] } ?? [])
                configuration.tls = clientTLS
                return RPCClient(configuration: configuration, logger: Logger(label: "tributary.meta.peer"))
            }
        } catch {
            FileHandle.standardError.write(Data("tributary: cannot open the Raft storage: \(error)\n".utf8))
            throw ExitCode(74)
        }
    }
}

/// Runs a ``MetaNode`` in the node's service group until graceful shutdown.
struct MetaNodeService: Service {
    let node: MetaNode

    func run() async throws {
        node.start()
        try? await gracefulShutdown()
        await node.shutdown()
    }
}
