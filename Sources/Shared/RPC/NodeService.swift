import NIOCore

/// Serves ``NodeAPI`` for this process. Both handlers answer at once, on the call's event loop.
public struct NodeService: Sendable {
    /// This node's id.
    public let nodeID: String
    /// The roles this process runs.
    public let roles: [String]
    /// The version string reported.
    public let version: String
    /// When the process started (for uptime).
    public let startedAt: NIODeadline

    /// Creates the service.
    public init(nodeID: String, roles: [String], version: String, startedAt: NIODeadline = .now()) {
        self.nodeID = nodeID
        self.roles = roles
        self.version = version
        self.startedAt = startedAt
    }

    /// The current status.
    public func status(now: NIODeadline = .now()) -> NodeStatus {
        let uptime = max(0, (now - self.startedAt).nanoseconds) / 1_000_000_000
        return NodeStatus(nodeID: self.nodeID, roles: self.roles, version: self.version, uptimeSeconds: UInt64(uptime))
    }

    /// Registers `node.status` and `node.ping` on `router`.
    public func register(into router: inout RPCRouter) {
        router.registerSync(NodeAPI.status) { _, _ in
            self.status()
        }
        router.registerSync(NodeAPI.ping) { request, _ in
            request
        }
    }
}
