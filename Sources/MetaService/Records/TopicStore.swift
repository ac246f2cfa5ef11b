import Shared

/// Typed access to the topics in meta (``TopicRecord`` under `/topics/<tenant>/<name>`).
public struct TopicStore: Sendable {
    /// The meta client used.
    public let client: MetaClient

    /// Creates a store over `client`.
    public init(client: MetaClient) { self.client = client }

    /// Creates `topic`; throws ``MetaRecordError/alreadyExists(key:)`` if the tenant has a
    /// topic of that name (an atomic compare-and-set on absence: of concurrent creates, one wins).
    @discardableResult
    public func create(_ topic: TopicRecord) async throws -> TopicRecord {
        try topic.validate()
        switch try await client.compareAndSet(topic.key, expect: .absent, value: topic.encodedBytes) {
        case .written: return topic
        case .compareFailed: throw MetaRecordError.alreadyExists(key: topic.key)
        case let other: throw RPCError(.internal, "unexpected result \(other) creating \(topic.key)")
        }
    }

    /// The topic, or nil.
    public func get(tenant: String, name: String) async throws -> TopicRecord? {
        let key = TopicRecord.key(tenant: tenant, name: name)
        guard let value = try await client.get(key).keyValue?.value else { return nil }
        return try Self.decode(value, key: key)
    }

    /// Every topic of `tenant` (every tenant's when nil), sorted by tenant then name.
    public func list(tenant: String? = nil) async throws -> [TopicRecord] {
        if let tenant { try MetaRecordNames.validateTenant(tenant) }
        let prefix = tenant.map { "\(TopicRecord.keyPrefix)\($0)/" } ?? TopicRecord.keyPrefix
        return try await client.range(prefix: prefix).keyValues.map { try Self.decode($0.value, key: $0.key) }
            .sorted { ($0.tenant, $0.name) < ($1.tenant, $1.name) }
    }

    /// Deletes the topic; whether it existed.
    @discardableResult
    public func delete(tenant: String, name: String) async throws -> Bool {
        guard case .deleted(_, let count) = try await client.delete(TopicRecord.key(tenant: tenant, name: name)) else { return false }
        return count > 0
    }

    /// Raises the topic's shard count to `count` (shards are never removed: refused if lower).
    /// Concurrent changes are retried (compare-and-set on the record's revision).
    @discardableResult
    public func setShardCount(tenant: String, name: String, to count: Int) async throws -> TopicRecord {
        try await update(tenant: tenant, name: name) { topic in
            guard count >= topic.shardCount else {
                throw MetaRecordError.invalidSetting(what: "shard count", reason: "\(count) is below the current \(topic.shardCount); shards cannot be removed")
            }
            topic.shardCount = count
        }
    }

    /// Changes the topic's settings with `change` (compare-and-set, retried on conflicts).
    @discardableResult
    public func update(tenant: String, name: String, _ change: (inout TopicRecord) throws -> Void) async throws -> TopicRecord {
        let key = TopicRecord.key(tenant: tenant, name: name)
        for _ in 0..<MetaRecordRetry.attempts {
            guard let current = try await client.get(key).keyValue else { throw MetaRecordError.notFound(key: key) }
            var topic = try Self.decode(current.value, key: key)
            try change(&topic)
            topic.tenant = tenant
            topic.name = name
            try topic.validate()
            if case .written = try await client.compareAndSet(key, expect: .modRevision(current.modRevision), value: topic.encodedBytes) {
                return topic
            }
        }
        throw MetaRecordError.contended(key: key)
    }

    static func decode(_ value: [UInt8], key: String) throws(MetaRecordError) -> TopicRecord {
        do {
            return try TopicRecord(bytes: value)
        } catch {
            throw .corrupt(key: key, reason: error.description)
        }
    }
}

/// How often typed-record read-modify-CAS loops try before reporting contention.
enum MetaRecordRetry {
    static let attempts = 32
}
