/// The built-in `node` service every Tributary process serves: liveness and identity.
///
/// Method ids are `serviceID << 16 | methodNumber`; the node service is service 1.
///
/// | id         | name          | request     | response     |
/// |------------|---------------|-------------|--------------|
/// | 0x00010001 | `node.status` | ``RPCEmpty``  | ``NodeStatus`` |
/// | 0x00010002 | `node.ping`   | ``NodePing``  | ``NodePing``   |
public enum NodeAPI {
    /// The service number in the high 16 bits of every method id.
    public static let serviceID: UInt32 = 1

    /// Who this node is, what it runs, and for how long.
    public static let status = RPCMethod<RPCEmpty, NodeStatus>(id: serviceID << 16 | 1, name: "node.status")

    /// Echoes the request's payload (liveness checks, benchmarks, tests).
    public static let ping = RPCMethod<NodePing, NodePing>(id: serviceID << 16 | 2, name: "node.ping")
}
