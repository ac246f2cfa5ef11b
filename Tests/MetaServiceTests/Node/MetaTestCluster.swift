import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Shared

@testable import MetaService

/// Waits until `condition` holds or `timeout` passes (polling every 20 ms); returns whether it held.
func eventually(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// The in-process "network": each address maps to the router of the node running there (if
/// it is up). Calls to a node that is down fail `unavailable`, as a refused connection would.
final class MetaTestNetwork: Sendable {
    let routers = NIOLockedValueBox<[String: RPCRouter]>([:])
    let group: any EventLoopGroup
    let logger = Logger(label: "test.meta.network")

    init(group: any EventLoopGroup) { self.group = group }

    func transport(_ address: String) -> any RPCTransport {
        NetworkTransport(network: self, address: address)
    }

    struct NetworkTransport: RPCTransport {
        let network: MetaTestNetwork
        let address: String

        func unary(methodID: UInt32, methodName: String, request: ByteBuffer, options: RPCCallOptions) -> RPCRawUnaryCall {
            guard let router = network.routers.withLockedValue({ $0[address] }) else {
                let failed: EventLoopFuture<ByteBuffer> = network.group.next().makeFailedFuture(RPCError(.unavailable, "\(address) is down"))
                return RPCRawUnaryCall(response: failed) { _ in }
            }
            return InProcessTransport(router: router, group: network.group, logger: network.logger)
                .unary(methodID: methodID, methodName: methodName, request: request, options: options)
        }

        func serverStream(methodID: UInt32, methodName: String, request: ByteBuffer, options: RPCCallOptions) -> RPCRawResponseStream {
            let router = network.routers.withLockedValue { $0[address] } ?? RPCRouter()
            return InProcessTransport(router: router, group: network.group, logger: network.logger)
                .serverStream(methodID: methodID, methodName: methodName, request: request, options: options)
        }
    }
}

/// Three (or more) ``MetaNode``s in one process over ``MetaTestNetwork``, in real temp dirs.
final class MetaTestCluster: @unchecked Sendable {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    let network: MetaTestNetwork
    let directories: [RaftNodeID: ScratchDirectory]
    let peers: [RaftNodeID: String]
    var nodes: [RaftNodeID: MetaNode] = [:]
    var extraDirectories: [RaftNodeID: ScratchDirectory] = [:]
    let snapshotInterval: UInt64
    var logger = Logger(label: "test.meta")

    init(size: Int = 3, snapshotInterval: UInt64 = 10_000) throws {
        network = MetaTestNetwork(group: group)
        var directories: [RaftNodeID: ScratchDirectory] = [:]
        var peers: [RaftNodeID: String] = [:]
        for id in 1...RaftNodeID(size) {
            directories[id] = ScratchDirectory()
            peers[id] = "node-\(id)"
        }
        self.directories = directories
        self.peers = peers
        self.snapshotInterval = snapshotInterval
        logger.logLevel = .warning
        for id in peers.keys.sorted() { try start(id) }
    }

    func configuration(_ id: RaftNodeID) -> MetaNode.Configuration {
        MetaNode.Configuration(
            id: id, address: peers[id] ?? "", peers: peers, dataDirectory: directories[id]?.path ?? "",
            bootstrap: true, tickInterval: .milliseconds(20), raft: RaftOptions(electionTimeout: 10, heartbeatTimeout: 1),
            snapshotInterval: snapshotInterval
        )
    }

    /// Starts (or restarts, from its data directory) node `id`; a node outside the founders
    /// starts empty and waits to be added (`--join`).
    func start(_ id: RaftNodeID) throws {
        let network = self.network
        var configuration = configuration(id)
        if peers[id] == nil {
            configuration.address = "node-\(id)"
            if extraDirectories[id] == nil { extraDirectories[id] = ScratchDirectory() }
            configuration.dataDirectory = extraDirectories[id]?.path ?? ""
            configuration.bootstrap = false
        }
        let node = try MetaNode(configuration: configuration, eventLoop: group.next(), logger: logger) { address in
            network.transport(address)
        }
        var router = RPCRouter()
        node.register(into: &router)
        network.routers.withLockedValue { $0[configuration.address] = router }
        nodes[id] = node
        node.start()
    }

    /// Stops node `id` (it becomes unreachable; its data directory stays).
    func stop(_ id: RaftNodeID) async {
        _ = network.routers.withLockedValue { $0.removeValue(forKey: peers[id] ?? "node-\(id)") }
        if let node = nodes.removeValue(forKey: id) { await node.shutdown() }
    }

    func client(_ addresses: [String]? = nil) -> MetaClient {
        let network = self.network
        return MetaClient(addresses: addresses ?? peers.keys.sorted().compactMap { peers[$0] },
                          options: .init(timeout: .seconds(15), attemptTimeout: .seconds(1))) { network.transport($0) }
    }

    func status(_ id: RaftNodeID) async throws -> MetaStatusResponse {
        guard let node = nodes[id] else { throw RPCError(.unavailable, "node \(id) is down") }
        return try await node.eventLoop.submit { node.status() }.get()
    }

    /// Waits for a leader all running nodes agree on; returns its id.
    func awaitLeader(timeout: Duration = .seconds(20)) async throws -> RaftNodeID? {
        var leader: RaftNodeID?
        _ = try await eventually(timeout: timeout) {
            var seen: Set<RaftNodeID> = []
            var leaders: [RaftNodeID] = []
            for id in nodes.keys {
                let status = try await self.status(id)
                seen.insert(status.leader)
                if status.role == .leader { leaders.append(id) }
            }
            guard leaders.count == 1, seen == [leaders[0]] else { return false }
            leader = leaders[0]
            return true
        }
        return leader
    }

    func shutdown() async {
        for id in Array(nodes.keys) { await stop(id) }
        try? await group.shutdownGracefully()
    }
}
