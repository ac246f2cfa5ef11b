import NIOCore
import Shared

/// A live node's registration in meta: the value of `/nodes/<role>/<id>`, written by the node
/// itself under a lease it keeps alive (meta deletes the key when the lease expires).
///
/// The value encodes role, id, advertised address and start time (version byte 1, then
/// length-prefixed role, varint id, length-prefixed address, varint start time in Unix
/// milliseconds). ``lease`` is not encoded: it is the key's owning lease, filled in by
/// ``init(keyValue:)``.
public struct NodeRecord: Equatable, Hashable, Sendable {
    /// The key prefix of every registration.
    public static let keyPrefix = "/nodes/"
    /// Longest role name.
    public static let maxRoleBytes = 64
    /// Longest advertised address.
    public static let maxAddressBytes = 1024

    /// The node's role (`journal`, `broker`, …).
    public var role: String
    /// The node's id (unique within its role).
    public var id: UInt64
    /// The address other nodes reach it at (`host:port`).
    public var address: String
    /// When the node process started, Unix milliseconds.
    public var startedAtMillis: UInt64
    /// The lease owning the registration (0 when unknown or none).
    public var lease: UInt64

    /// Creates a record.
    public init(role: String, id: UInt64, address: String, startedAtMillis: UInt64, lease: UInt64 = 0) {
        self.role = role
        self.id = id
        self.address = address
        self.startedAtMillis = startedAtMillis
        self.lease = lease
    }

    /// The registration key of node `id` of `role`.
    public static func key(role: String, id: UInt64) -> String { "\(keyPrefix)\(role)/\(id)" }

    /// This record's registration key.
    public var key: String { Self.key(role: role, id: id) }

    /// Splits a key `<prefix><role>/<id>` into its role and id; nil when it has another shape.
    public static func parseKey(_ key: String, prefix: String = keyPrefix) -> (role: String, id: UInt64)? {
        guard key.hasPrefix(prefix) else { return nil }
        let parts = key.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, let id = UInt64(parts[1]) else { return nil }
        return (String(parts[0]), id)
    }

    /// Appends the binary form (without the lease).
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(1))
        buffer.writeLengthPrefixed(string: role)
        buffer.writeVarint(id)
        buffer.writeLengthPrefixed(string: address)
        buffer.writeVarint(startedAtMillis)
    }

    /// The binary form as bytes (a meta value).
    public var encodedBytes: [UInt8] {
        var buffer = ByteBuffer()
        encode(into: &buffer)
        return Array(buffer.readableBytesView)
    }

    /// Decodes the binary form (lease 0).
    public init(decoding buffer: inout ByteBuffer) throws(WireDecodingError) {
        let version = try buffer.readFixed("node record version", as: UInt8.self)
        guard version == 1 else { throw .unknownTag(what: "node record version", tag: UInt64(version)) }
        let role = try buffer.readLengthPrefixedString("node role", limit: Self.maxRoleBytes)
        guard !role.isEmpty, !role.contains("/") else { throw .invalidValue(what: "node role", reason: "empty or contains '/'") }
        let id = try buffer.readVarint()
        let address = try buffer.readLengthPrefixedString("node address", limit: Self.maxAddressBytes)
        let started = try buffer.readVarint()
        self.init(role: role, id: id, address: address, startedAtMillis: started)
    }

    /// Decodes a meta value (lease 0); trailing bytes are an error.
    public init(bytes: [UInt8]) throws(WireDecodingError) {
        var buffer = ByteBuffer(bytes: bytes)
        try self.init(decoding: &buffer)
        guard buffer.readableBytes == 0 else { throw .invalidValue(what: "node record", reason: "trailing bytes") }
    }

    /// Decodes a registration key-value: the value, checked against the key's role and id, with
    /// the key's lease.
    public init(keyValue: MetaKeyValue) throws(WireDecodingError) {
        try self.init(bytes: keyValue.value)
        let parsed = Self.parseKey(keyValue.key)
        guard let parsed, parsed.role == role, parsed.id == id else {
            throw .invalidValue(what: "node record", reason: "key \(keyValue.key) does not match role \(role) id \(id)")
        }
        self.lease = keyValue.lease
    }
}
