import NIOCore
import Shared

/// One change to the metadata key space, as delivered to watchers in revision order.
public struct WatchEvent: Equatable, Sendable {
    /// What happened to the key.
    public enum Kind: UInt8, Sendable {
        /// Created or updated: `keyValue` is the new record.
        case put = 1
        /// Removed: `keyValue` holds the key and the deletion's revision, with an empty value.
        case delete = 2
    }

    /// The kind of change.
    public var kind: Kind
    /// The record after the change (for deletes: key, empty value, modRevision = deletion revision).
    public var keyValue: MetaKeyValue
    /// The record before the change, if the key existed.
    public var previous: MetaKeyValue?

    /// Creates an event.
    public init(kind: Kind, keyValue: MetaKeyValue, previous: MetaKeyValue?) {
        self.kind = kind
        self.keyValue = keyValue
        self.previous = previous
    }

    /// The revision at which the change happened.
    public var revision: UInt64 { keyValue.modRevision }

    /// Appends the binary encoding.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(kind.rawValue)
        keyValue.encode(into: &buffer)
        buffer.writeBool(previous != nil)
        previous?.encode(into: &buffer)
    }

    /// Decodes the binary encoding.
    public init(from buffer: inout ByteBuffer) throws(WireDecodingError) {
        let raw = try buffer.readFixed("watch event kind", as: UInt8.self)
        guard let kind = Kind(rawValue: raw) else { throw .unknownTag(what: "watch event kind", tag: UInt64(raw)) }
        self.kind = kind
        self.keyValue = try MetaKeyValue(from: &buffer)
        self.previous = try buffer.readBool("has previous") ? try MetaKeyValue(from: &buffer) : nil
    }
}
