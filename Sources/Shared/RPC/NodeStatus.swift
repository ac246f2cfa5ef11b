import NIOCore

/// The answer to `node.status`.
///
/// Wire form: nodeID string, varint role count then each role string, version string, uptime
/// seconds varint (strings are varint-length-prefixed UTF-8).
public struct NodeStatus: RPCMessage, Equatable {
    /// Most roles and longest string accepted when decoding.
    static let maxRoles = 16
    static let maxStringBytes = 1024

    /// The node's configured id.
    public var nodeID: String
    /// The roles the process runs (`broker`, `meta`, `journal`).
    public var roles: [String]
    /// The Tributary version string.
    public var version: String
    /// Seconds since the process started.
    public var uptimeSeconds: UInt64

    /// Creates a status.
    public init(nodeID: String, roles: [String], version: String, uptimeSeconds: UInt64) {
        self.nodeID = nodeID
        self.roles = roles
        self.version = version
        self.uptimeSeconds = uptimeSeconds
    }

    public init(rpcBody buffer: inout ByteBuffer) throws {
        self.nodeID = try buffer.readLengthPrefixedString("nodeID", limit: Self.maxStringBytes)
        let count = try buffer.readLength("roles", limit: Self.maxRoles)
        var roles: [String] = []
        roles.reserveCapacity(count)
        for _ in 0..<count {
            roles.append(try buffer.readLengthPrefixedString("role", limit: Self.maxStringBytes))
        }
        self.roles = roles
        self.version = try buffer.readLengthPrefixedString("version", limit: Self.maxStringBytes)
        self.uptimeSeconds = try buffer.readVarint()
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeLengthPrefixed(string: self.nodeID)
        buffer.writeVarint(UInt64(self.roles.count))
        for role in self.roles {
            buffer.writeLengthPrefixed(string: role)
        }
        buffer.writeLengthPrefixed(string: self.version)
        buffer.writeVarint(self.uptimeSeconds)
    }
}
