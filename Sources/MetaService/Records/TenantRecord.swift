import NIOCore
import Shared

/// A tenant: the value of `/tenants/<name>`.
///
/// Binary form (version 1): version byte, length-prefixed name and description, varint creation
/// time (Unix ms), state byte (0 active, 1 disabled), then the limits as three varints: max
/// connections, max sessions, max topics (0 = unlimited).
public struct TenantRecord: Equatable, Sendable {
    /// Whether the tenant's clients are served.
    public enum State: UInt8, Equatable, Sendable, CaseIterable, CustomStringConvertible {
        /// Served.
        case active = 0
        /// Refused (existing data is kept).
        case disabled = 1

        public var description: String {
            switch self {
            case .active: "active"
            case .disabled: "disabled"
            }
        }
    }

    /// A tenant's limits; 0 means unlimited.
    public struct Limits: Equatable, Sendable {
        /// Most concurrent client connections.
        public var maxConnections: Int
        /// Most (persistent) sessions.
        public var maxSessions: Int
        /// Most topics.
        public var maxTopics: Int

        /// No limits.
        public static let unlimited = Limits()

        /// Creates limits (default: all unlimited).
        public init(maxConnections: Int = 0, maxSessions: Int = 0, maxTopics: Int = 0) {
            self.maxConnections = maxConnections
            self.maxSessions = maxSessions
            self.maxTopics = maxTopics
        }
    }

    /// The key prefix of every tenant.
    public static let keyPrefix = "/tenants/"
    /// The implicit tenant of clients that name none; it exists even when not stored.
    public static let defaultName = "default"
    /// Longest description, bytes.
    public static let maxDescriptionBytes = 1024
    /// Largest value of a limit.
    public static let maxLimit = 1_000_000_000

    /// The tenant name.
    public var name: String
    /// A free-text description for operators.
    public var description: String
    /// When the tenant was created, Unix ms.
    public var createdAtMillis: UInt64
    /// Active or disabled.
    public var state: State
    /// The limits.
    public var limits: Limits

    /// Creates a record (not validated; ``validate()`` or the codec does).
    public init(name: String, description: String = "", createdAtMillis: UInt64, state: State = .active, limits: Limits = .unlimited) {
        self.name = name
        self.description = description
        self.createdAtMillis = createdAtMillis
        self.state = state
        self.limits = limits
    }

    /// The implicit `default` tenant: active, no limits, created at 0.
    public static let implicitDefault = TenantRecord(name: defaultName, createdAtMillis: 0)

    /// The key of tenant `name`.
    public static func key(name: String) -> String { "\(keyPrefix)\(name)" }

    /// This tenant's key.
    public var key: String { Self.key(name: name) }

    /// Checks the name, the description's length and the limits' ranges.
    public func validate() throws(MetaRecordError) {
        try MetaRecordNames.validateTenant(name)
        guard description.utf8.count <= Self.maxDescriptionBytes else {
            throw .invalidSetting(what: "description", reason: "longer than \(Self.maxDescriptionBytes) bytes")
        }
        for (what, value) in [("max connections", limits.maxConnections), ("max sessions", limits.maxSessions), ("max topics", limits.maxTopics)] {
            guard (0...Self.maxLimit).contains(value) else {
                throw .invalidSetting(what: what, reason: "\(value) is not in 0…\(Self.maxLimit) (0 = unlimited)")
            }
        }
    }

    /// Appends the binary form.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(1))
        buffer.writeLengthPrefixed(string: name)
        buffer.writeLengthPrefixed(string: description)
        buffer.writeVarint(createdAtMillis)
        buffer.writeInteger(state.rawValue)
        buffer.writeVarint(UInt64(max(0, limits.maxConnections)))
        buffer.writeVarint(UInt64(max(0, limits.maxSessions)))
        buffer.writeVarint(UInt64(max(0, limits.maxTopics)))
    }

    /// The binary form as bytes (a meta value).
    public var encodedBytes: [UInt8] {
        var buffer = ByteBuffer()
        encode(into: &buffer)
        return Array(buffer.readableBytesView)
    }

    /// Decodes and validates the binary form.
    public init(decoding buffer: inout ByteBuffer) throws(WireDecodingError) {
        let version = try buffer.readFixed("tenant record version", as: UInt8.self)
        guard version == 1 else { throw .unknownTag(what: "tenant record version", tag: UInt64(version)) }
        let name = try buffer.readLengthPrefixedString("tenant", limit: MetaRecordNames.maxTenantBytes)
        let description = try buffer.readLengthPrefixedString("tenant description", limit: Self.maxDescriptionBytes)
        let created = try buffer.readVarint()
        let stateByte = try buffer.readFixed("tenant state", as: UInt8.self)
        guard let state = State(rawValue: stateByte) else { throw .unknownTag(what: "tenant state", tag: UInt64(stateByte)) }
        let connections = try buffer.readLength("max connections", limit: Self.maxLimit)
        let sessions = try buffer.readLength("max sessions", limit: Self.maxLimit)
        let topics = try buffer.readLength("max topics", limit: Self.maxLimit)
        self.init(name: name, description: description, createdAtMillis: created, state: state,
                  limits: Limits(maxConnections: connections, maxSessions: sessions, maxTopics: topics))
        do {
            try validate()
        } catch {
            throw .invalidValue(what: "tenant record", reason: error.description)
        }
    }

    /// Decodes a meta value; trailing bytes are an error.
    public init(bytes: [UInt8]) throws(WireDecodingError) {
        var buffer = ByteBuffer(bytes: bytes)
        try self.init(decoding: &buffer)
        guard buffer.readableBytes == 0 else { throw .invalidValue(what: "tenant record", reason: "trailing bytes") }
    }
}
