import Logging
import MetaService
import Shared

/// Runs the ``SegmentController`` on the meta leader (a ``MetaControllerTask``): placement of
/// pending replicated shards and the seal and failover of segments whose replica died. It
/// reaches meta through the controller's in-process client and the journal nodes through
/// `connect` (an ``RPCClient`` per node address).
public struct SegmentControllerTask: MetaControllerTask {
    public let name = "segment-placement"
    let connect: @Sendable (String) -> any RPCTransport

    /// Creates the task; `connect` makes a transport to a journal node's RPC address.
    public init(connect: @escaping @Sendable (String) -> any RPCTransport) {
        self.connect = connect
    }

    public func run(_ context: MetaControllerContext) async throws {
        let cluster = JournalClusterClient(meta: context.client, logger: context.logger, connect: connect)
        await SegmentController(cluster: cluster, logger: context.logger).run()
        await cluster.close()
    }
}
