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
        assembly: NodeAssembly,
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
        let node: MetaNode
        do {
            node = try MetaNode(
                configuration: MetaNode.Configuration(
                    id: nodeID, address: members[nodeID] ?? config.rpc.listener.description, peers: members,
                    dataDirectory: assembly.dataDirectory.path + "/meta", bootstrap: bootstrap,
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
        // Not ready until this node knows a leader: before that it can answer no metadata request.
        let readiness = assembly.readiness
        readiness.register("meta")
        node.observeLeadership { known in readiness.set("meta", ready: known) }
        return node
    }
}

extension MetaNodeWiring {
    /// A ``MetaClient`` of the meta node running in this process, through no socket.
    static func localClient(_ node: MetaNode, logger: Logger) -> MetaClient {
        var router = RPCRouter()
        node.register(into: &router)
        let transport = InProcessTransport(router: router, logger: logger)
        return MetaClient(addresses: [node.configuration.address]) { _ in transport }
    }
}

/// Runs a ``MetaNode`` and its ``MetaController`` in the node's service group until graceful
/// shutdown. `tasks` are the controller tasks run while this node leads (besides the built-in
/// node history): other roles' cluster management plugs in here.
struct MetaNodeService: Service {
    let node: MetaNode
    var tasks: [any MetaControllerTask] = []

    func run() async throws {
        let controller = MetaController(node: node, tasks: tasks, logger: Logger(label: "tributary.meta.controller"))
        controller.start()
        node.start()
        try? await gracefulShutdown()
        await controller.shutdown()
        await node.shutdown()
    }
}
