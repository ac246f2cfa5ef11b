import Logging

/// A piece of cluster management run by the ``MetaController`` while its meta node leads.
///
/// `run` starts when the node becomes the Raft leader and is cancelled when it stops leading or
/// shuts down; the next leader runs it again from scratch. So a task must be idempotent: derive
/// what to do from meta state (and ``MetaControllerContext/nodes``), not from memory of an
/// earlier run. Returning ends the task for this term; throwing logs the error and runs it again
/// after a pause (while still leading).
public protocol MetaControllerTask: Sendable {
    /// A short name for logs (`node-history`, `segment-placement`, …).
    var name: String { get }

    /// Does the task's work until cancelled (or done for this term).
    func run(_ context: MetaControllerContext) async throws
}

/// What a ``MetaControllerTask`` works with.
public struct MetaControllerContext: Sendable {
    /// A client bound in-process to this (leading) meta node: no socket. Writes made after
    /// leadership is lost fail (or reach the new leader by follower forwarding), so tasks must
    /// stay idempotent.
    public let client: MetaClient
    /// The controller's logger, with the task's name and the term as metadata.
    public let logger: Logger
    /// The Raft term this node leads in.
    public let term: UInt64
    /// The live nodes, watch-fed.
    public let nodes: ClusterNodes

    /// Creates a context (the controller does; tests may too).
    public init(client: MetaClient, logger: Logger, term: UInt64, nodes: ClusterNodes) {
        self.client = client
        self.logger = logger
        self.term = term
        self.nodes = nodes
    }
}
