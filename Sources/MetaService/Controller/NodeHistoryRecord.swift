import NIOCore
import Shared

/// The controller's persistent record of a node, alive or dead: the value of
/// `/cluster/nodes/<role>/<id>`. Unlike the leased registration under `/nodes/`, it outlives
/// the node, so dead nodes stay visible (`tributary ctl cluster status`).
///
/// Binary form: version byte 1, state byte, length-prefixed role, varint id, length-prefixed
/// address, varint start time, varint lease, varint last change time (Unix milliseconds).
public struct NodeHistoryRecord: Equatable, Sendable {
    /// Whether the node is registered.
    public enum State: UInt8, Sendable, CustomStringConvertible {
        /// Registered with a live lease.
        case alive = 1
        /// Its registration disappeared (lease expired or revoked).
        case dead = 2

        /// `alive` or `dead`.
        public var description: String { self == .alive ? "alive" : "dead" }
    }

    /// The key prefix of every history record.
    public static let keyPrefix = "/cluster/nodes/"

    /// Alive or dead.
    public var state: State
    /// The node as last registered (its lease is the one it last held).
    public var node: NodeRecord
    /// When the state (or registration) last changed, Unix milliseconds.
    public var changedAtMillis: UInt64

    /// Creates a record.
    public init(state: State, node: NodeRecord, changedAtMillis: UInt64) {
        self.state = state
        self.node = node
        self.changedAtMillis = changedAtMillis
    }

    /// The history key of node `id` of `role`.
    public static func key(role: String, id: UInt64) -> String { "\(keyPrefix)\(role)/\(id)" }

    /// This record's key.
    public var key: String { Self.key(role: node.role, id: node.id) }

    /// Appends the binary form.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(1))
        buffer.writeInteger(state.rawValue)
        buffer.writeLengthPrefixed(string: node.role)
        buffer.writeVarint(node.id)
        buffer.writeLengthPrefixed(string: node.address)
        buffer.writeVarint(node.startedAtMillis)
        buffer.writeVarint(node.lease)
        buffer.writeVarint(changedAtMillis)
    }

    /// The binary form as bytes (a meta value).
    public var encodedBytes: [UInt8] {
        var buffer = ByteBuffer()
        encode(into: &buffer)
        return Array(buffer.readableBytesView)
    }

    /// Decodes the binary form.
    public init(decoding buffer: inout ByteBuffer) throws(WireDecodingError) {
        let version = try buffer.readFixed("node history version", as: UInt8.self)
        guard version == 1 else { throw .unknownTag(what: "node history version", tag: UInt64(version)) }
        let rawState = try buffer.readFixed("node history state", as: UInt8.self)
        guard let state = State(rawValue: rawState) else { throw .unknownTag(what: "node history state", tag: UInt64(rawState)) }
        let role = try buffer.readLengthPrefixedString("node role", limit: NodeRecord.maxRoleBytes)
        guard !role.isEmpty, !role.contains("/") else { throw .invalidValue(what: "node role", reason: "empty or contains '/'") }
        let id = try buffer.readVarint()
        let address = try buffer.readLengthPrefixedString("node address", limit: NodeRecord.maxAddressBytes)
        let started = try buffer.readVarint()
        let lease = try buffer.readVarint()
        let changed = try buffer.readVarint()
        self.init(state: state, node: NodeRecord(role: role, id: id, address: address, startedAtMillis: started, lease: lease), changedAtMillis: changed)
    }

    /// Decodes a meta value; trailing bytes are an error.
    public init(bytes: [UInt8]) throws(WireDecodingError) {
        var buffer = ByteBuffer(bytes: bytes)
        try self.init(decoding: &buffer)
        guard buffer.readableBytes == 0 else { throw .invalidValue(what: "node history record", reason: "trailing bytes") }
    }
}
