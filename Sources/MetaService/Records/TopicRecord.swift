import NIOCore
import Shared

/// A topic of a tenant: the value of `/topics/<tenant>/<name>`.
///
/// Binary form (version 1): version byte, length-prefixed tenant and name, varint creation time
/// (Unix ms), varint shard count, then the settings: varint replication factor, signed varint
/// retention ms (-1: forever), signed varint retention bytes (-1: unlimited), varint largest
/// message bytes, varint count of extra settings and each as two length-prefixed strings (sorted
/// by name).
public struct TopicRecord: Equatable, Sendable {
    /// A topic's settings.
    public struct Settings: Equatable, Sendable {
        /// Copies of each shard (1…16).
        public var replicationFactor: Int
        /// How long records are kept, ms; -1 keeps them forever.
        public var retentionMillis: Int64
        /// How many bytes a shard keeps; -1 for no limit.
        public var retentionBytes: Int64
        /// The largest record accepted, bytes.
        public var maxMessageBytes: Int
        /// Further protocol settings by name (Kafka topic configs such as `cleanup.policy`).
        public var extra: [String: String]

        /// Creates settings (defaults: 1 copy, kept forever, no size limit, 1 MiB records).
        public init(replicationFactor: Int = 1, retentionMillis: Int64 = -1, retentionBytes: Int64 = -1,
                    maxMessageBytes: Int = 1 << 20, extra: [String: String] = [:]) {
            self.replicationFactor = replicationFactor
            self.retentionMillis = retentionMillis
            self.retentionBytes = retentionBytes
            self.maxMessageBytes = maxMessageBytes
            self.extra = extra
        }
    }

    /// The key prefix of every topic.
    public static let keyPrefix = "/topics/"
    /// Most shards (partitions) a topic may have.
    public static let maxShards = 100_000
    /// Most extra settings.
    public static let maxExtraSettings = 256
    /// Longest extra setting name or value.
    public static let maxSettingBytes = 4096

    /// The owning tenant.
    public var tenant: String
    /// The topic name (unique within the tenant).
    public var name: String
    /// When the topic was created, Unix ms.
    public var createdAtMillis: UInt64
    /// Number of shards (Kafka partitions), 1…``maxShards``.
    public var shardCount: Int
    /// The settings.
    public var settings: Settings

    /// Creates a record (not validated; ``validate()`` or the codec does).
    public init(tenant: String, name: String, createdAtMillis: UInt64, shardCount: Int, settings: Settings = Settings()) {
        self.tenant = tenant
        self.name = name
        self.createdAtMillis = createdAtMillis
        self.shardCount = shardCount
        self.settings = settings
    }

    /// The key of topic `name` of `tenant`.
    public static func key(tenant: String, name: String) -> String { "\(keyPrefix)\(tenant)/\(name)" }

    /// This topic's key.
    public var key: String { Self.key(tenant: tenant, name: name) }

    /// Checks names and ranges.
    public func validate() throws(MetaRecordError) {
        try MetaRecordNames.validateTenant(tenant)
        try MetaRecordNames.validateTopic(name)
        guard (1...Self.maxShards).contains(shardCount) else {
            throw .invalidSetting(what: "shard count", reason: "\(shardCount) is not in 1…\(Self.maxShards)")
        }
        guard (1...16).contains(settings.replicationFactor) else {
            throw .invalidSetting(what: "replication factor", reason: "\(settings.replicationFactor) is not in 1…16")
        }
        guard settings.retentionMillis >= -1, settings.retentionBytes >= -1 else {
            throw .invalidSetting(what: "retention", reason: "must be -1 (unlimited) or positive")
        }
        guard settings.maxMessageBytes > 0, settings.maxMessageBytes <= MetaLimits.maxValueBytes * 100 else {
            throw .invalidSetting(what: "largest message", reason: "\(settings.maxMessageBytes) bytes is out of range")
        }
        guard settings.extra.count <= Self.maxExtraSettings else {
            throw .invalidSetting(what: "extra settings", reason: "more than \(Self.maxExtraSettings)")
        }
        for (name, value) in settings.extra where name.isEmpty || name.utf8.count > Self.maxSettingBytes || value.utf8.count > Self.maxSettingBytes {
            throw .invalidSetting(what: "setting '\(name)'", reason: "empty name or longer than \(Self.maxSettingBytes) bytes")
        }
    }

    /// Appends the binary form.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(1))
        buffer.writeLengthPrefixed(string: tenant)
        buffer.writeLengthPrefixed(string: name)
        buffer.writeVarint(createdAtMillis)
        buffer.writeVarint(UInt64(max(0, shardCount)))
        buffer.writeVarint(UInt64(max(0, settings.replicationFactor)))
        buffer.writeSignedVarint(settings.retentionMillis)
        buffer.writeSignedVarint(settings.retentionBytes)
        buffer.writeVarint(UInt64(max(0, settings.maxMessageBytes)))
        buffer.writeVarint(UInt64(settings.extra.count))
        for (name, value) in settings.extra.sorted(by: { $0.key < $1.key }) {
            buffer.writeLengthPrefixed(string: name)
            buffer.writeLengthPrefixed(string: value)
        }
    }

    /// The binary form as bytes (a meta value).
    public var encodedBytes: [UInt8] {
        var buffer = ByteBuffer()
        encode(into: &buffer)
        return Array(buffer.readableBytesView)
    }

    /// Decodes and validates the binary form.
    public init(decoding buffer: inout ByteBuffer) throws(WireDecodingError) {
        let version = try buffer.readFixed("topic record version", as: UInt8.self)
        guard version == 1 else { throw .unknownTag(what: "topic record version", tag: UInt64(version)) }
        let tenant = try buffer.readLengthPrefixedString("tenant", limit: MetaRecordNames.maxTenantBytes)
        let name = try buffer.readLengthPrefixedString("topic name", limit: MetaRecordNames.maxTopicBytes)
        let created = try buffer.readVarint()
        let shards = try buffer.readLength("shard count", limit: Self.maxShards)
        let replication = try buffer.readLength("replication factor", limit: 16)
        let retentionMillis = try buffer.readSignedVarint()
        let retentionBytes = try buffer.readSignedVarint()
        let maxMessage = try buffer.readLength("largest message", limit: Int(Int32.max))
        let count = try buffer.readLength("extra setting count", limit: Self.maxExtraSettings)
        var extra: [String: String] = [:]
        for _ in 0..<count {
            let key = try buffer.readLengthPrefixedString("setting name", limit: Self.maxSettingBytes)
            extra[key] = try buffer.readLengthPrefixedString("setting value", limit: Self.maxSettingBytes)
        }
        self.init(tenant: tenant, name: name, createdAtMillis: created, shardCount: shards, settings: Settings(
            replicationFactor: replication, retentionMillis: retentionMillis, retentionBytes: retentionBytes,
            maxMessageBytes: maxMessage, extra: extra))
        do {
            try validate()
        } catch {
            throw .invalidValue(what: "topic record", reason: error.description)
        }
    }

    /// Decodes a meta value; trailing bytes are an error.
    public init(bytes: [UInt8]) throws(WireDecodingError) {
        var buffer = ByteBuffer(bytes: bytes)
        try self.init(decoding: &buffer)
        guard buffer.readableBytes == 0 else { throw .invalidValue(what: "topic record", reason: "trailing bytes") }
    }
}
