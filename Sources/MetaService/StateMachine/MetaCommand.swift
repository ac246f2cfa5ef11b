import NIOCore
import Shared

/// A write to the metadata state machine: the payload of one Raft log entry. Applying the same
/// sequence of commands on every replica yields the same state (no clocks, no randomness).
public enum MetaCommand: Equatable, Sendable {
    /// What a compare-and-set checks about a key before it writes.
    public enum Expectation: Equatable, Sendable {
        /// The key must not exist.
        case absent
        /// The key must exist with this modification revision.
        case modRevision(UInt64)
        /// The key must exist with exactly this value.
        case value([UInt8])
    }

    /// Sets a key (creating it if needed), optionally attached to a lease.
    case put(key: String, value: [UInt8], lease: UInt64)
    /// Removes one key.
    case delete(key: String)
    /// Removes every key starting with the prefix.
    case deletePrefix(prefix: String)
    /// Writes `value` (or deletes, when nil) only if the key matches the expectation.
    case compareAndSet(key: String, expect: Expectation, value: [UInt8]?, lease: UInt64)
    /// Creates a lease that ends, with its keys, when revoked (the leader's lease tracker
    /// revokes leases whose holders stop sending keep-alives within `ttlMillis`).
    case grantLease(id: UInt64, ttlMillis: UInt64)
    /// Ends a lease and deletes its keys.
    case revokeLease(id: UInt64)

    private enum Tag: UInt8 {
        case put = 1, delete, deletePrefix, compareAndSet, grantLease, revokeLease
    }

    /// Appends the binary encoding.
    public func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .put(let key, let value, let lease):
            buffer.writeInteger(Tag.put.rawValue)
            buffer.writeLengthPrefixed(string: key)
            buffer.writeLengthPrefixed(bytes: value)
            buffer.writeVarint(lease)
        case .delete(let key):
            buffer.writeInteger(Tag.delete.rawValue)
            buffer.writeLengthPrefixed(string: key)
        case .deletePrefix(let prefix):
            buffer.writeInteger(Tag.deletePrefix.rawValue)
            buffer.writeLengthPrefixed(string: prefix)
        case .compareAndSet(let key, let expect, let value, let lease):
            buffer.writeInteger(Tag.compareAndSet.rawValue)
            buffer.writeLengthPrefixed(string: key)
            switch expect {
            case .absent:
                buffer.writeInteger(UInt8(0))
            case .modRevision(let revision):
                buffer.writeInteger(UInt8(1))
                buffer.writeVarint(revision)
            case .value(let bytes):
                buffer.writeInteger(UInt8(2))
                buffer.writeLengthPrefixed(bytes: bytes)
            }
            buffer.writeBool(value != nil)
            if let value { buffer.writeLengthPrefixed(bytes: value) }
            buffer.writeVarint(lease)
        case .grantLease(let id, let ttl):
            buffer.writeInteger(Tag.grantLease.rawValue)
            buffer.writeVarint(id)
            buffer.writeVarint(ttl)
        case .revokeLease(let id):
            buffer.writeInteger(Tag.revokeLease.rawValue)
            buffer.writeVarint(id)
        }
    }

    /// The encoding as bytes (a Raft entry's data).
    public var encoded: [UInt8] {
        var buffer = ByteBuffer()
        encode(into: &buffer)
        return Array(buffer.readableBytesView)
    }

    /// Decodes one command; the whole buffer must be consumed.
    public init(from buffer: inout ByteBuffer) throws(WireDecodingError) {
        let raw = try buffer.readFixed("meta command tag", as: UInt8.self)
        func key() throws(WireDecodingError) -> String {
            try buffer.readLengthPrefixedString("key", limit: MetaLimits.maxKeyBytes)
        }
        func bytes() throws(WireDecodingError) -> [UInt8] {
            Array(try buffer.readLengthPrefixedSlice("value", limit: MetaLimits.maxValueBytes).readableBytesView)
        }
        switch Tag(rawValue: raw) {
        case .put:
            self = .put(key: try key(), value: try bytes(), lease: try buffer.readVarint())
        case .delete:
            self = .delete(key: try key())
        case .deletePrefix:
            self = .deletePrefix(prefix: try key())
        case .compareAndSet:
            let key = try key()
            let expect: Expectation
            switch try buffer.readFixed("expectation", as: UInt8.self) {
            case 0: expect = .absent
            case 1: expect = .modRevision(try buffer.readVarint())
            case 2: expect = .value(try bytes())
            case let other: throw .unknownTag(what: "expectation", tag: UInt64(other))
            }
            let value = try buffer.readBool("has value") ? try bytes() : nil
            self = .compareAndSet(key: key, expect: expect, value: value, lease: try buffer.readVarint())
        case .grantLease:
            self = .grantLease(id: try buffer.readVarint(), ttlMillis: try buffer.readVarint())
        case .revokeLease:
            self = .revokeLease(id: try buffer.readVarint())
        case nil:
            throw .unknownTag(what: "meta command", tag: UInt64(raw))
        }
    }

    /// Decodes a Raft entry's data.
    public init(bytes: [UInt8]) throws(WireDecodingError) {
        var buffer = ByteBuffer(bytes: bytes)
        try self.init(from: &buffer)
        guard buffer.readableBytes == 0 else {
            throw .invalidValue(what: "meta command", reason: "\(buffer.readableBytes) trailing bytes")
        }
    }
}
