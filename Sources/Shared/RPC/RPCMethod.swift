/// Describes a unary method: one request, one response. Services list theirs as static
/// constants in one `…API` file so the whole protocol can be read in one place.
public struct RPCMethod<Request: RPCMessage, Response: RPCMessage>: Sendable, Hashable {
    /// The method id carried in every frame of a call; unique across all services.
    public let id: UInt32
    /// A stable, dotted, human-readable name (`node.status`), used in logs and metrics.
    public let name: String

    /// Creates a descriptor.
    public init(id: UInt32, name: String) {
        self.id = id
        self.name = name
    }
}

/// Describes a server-streaming method: one request, then a flow-controlled stream of items.
public struct RPCStreamMethod<Request: RPCMessage, Item: RPCMessage>: Sendable, Hashable {
    /// The method id carried in every frame of a call; unique across all services.
    public let id: UInt32
    /// A stable, dotted, human-readable name, used in logs and metrics.
    public let name: String

    /// Creates a descriptor.
    public init(id: UInt32, name: String) {
        self.id = id
        self.name = name
    }
}
