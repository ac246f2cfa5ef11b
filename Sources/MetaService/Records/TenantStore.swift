import Shared

/// Typed access to the tenants in meta (``TenantRecord`` under `/tenants/<name>`).
///
/// The `default` tenant (``TenantRecord/defaultName``) always exists: until a record is stored
/// for it, ``get(_:)`` and ``list()`` return ``TenantRecord/implicitDefault`` (active, no
/// limits), and ``update(_:_:)`` starts from that record. It cannot be deleted.
public struct TenantStore: Sendable {
    /// The meta client used.
    public let client: MetaClient

    /// Creates a store over `client`.
    public init(client: MetaClient) { self.client = client }

    /// Creates `tenant`; throws ``MetaRecordError/alreadyExists(key:)`` if a tenant of that name
    /// is stored (an atomic compare-and-set on absence: of concurrent creates, one wins).
    @discardableResult
    public func create(_ tenant: TenantRecord) async throws -> TenantRecord {
        try tenant.validate()
        switch try await client.compareAndSet(tenant.key, expect: .absent, value: tenant.encodedBytes) {
        case .written: return tenant
        case .compareFailed: throw MetaRecordError.alreadyExists(key: tenant.key)
        case let other: throw RPCError(.internal, "unexpected result \(other) creating \(tenant.key)")
        }
    }

    /// The tenant, or nil; `default` is returned even when not stored.
    public func get(_ name: String) async throws -> TenantRecord? {
        try MetaRecordNames.validateTenant(name)
        let key = TenantRecord.key(name: name)
        guard let value = try await client.get(key).keyValue?.value else {
            return name == TenantRecord.defaultName ? .implicitDefault : nil
        }
        return try Self.decode(value, key: key)
    }

    /// Every tenant sorted by name, `default` included even when not stored.
    public func list() async throws -> [TenantRecord] {
        var tenants = try await client.range(prefix: TenantRecord.keyPrefix).keyValues.map { try Self.decode($0.value, key: $0.key) }
        if !tenants.contains(where: { $0.name == TenantRecord.defaultName }) { tenants.append(.implicitDefault) }
        return tenants.sorted { $0.name < $1.name }
    }

    /// Changes the tenant with `change` (compare-and-set on the read revision, retried on
    /// conflicts). Throws ``MetaRecordError/notFound(key:)`` for a tenant that does not exist.
    @discardableResult
    public func update(_ name: String, _ change: (inout TenantRecord) throws -> Void) async throws -> TenantRecord {
        try MetaRecordNames.validateTenant(name)
        let key = TenantRecord.key(name: name)
        for _ in 0..<MetaRecordRetry.attempts {
            var tenant: TenantRecord
            let expectation: MetaCommand.Expectation
            if let current = try await client.get(key).keyValue {
                tenant = try Self.decode(current.value, key: key)
                expectation = .modRevision(current.modRevision)
            } else if name == TenantRecord.defaultName {
                tenant = .implicitDefault
                expectation = .absent
            } else {
                throw MetaRecordError.notFound(key: key)
            }
            try change(&tenant)
            tenant.name = name
            try tenant.validate()
            if case .written = try await client.compareAndSet(key, expect: expectation, value: tenant.encodedBytes) {
                return tenant
            }
        }
        throw MetaRecordError.contended(key: key)
    }

    /// Sets the tenant's state (active or disabled).
    @discardableResult
    public func setState(_ name: String, to state: TenantRecord.State) async throws -> TenantRecord {
        try await update(name) { $0.state = state }
    }

    /// Deletes the tenant's record; whether it existed. The `default` tenant is refused with
    /// ``MetaRecordError/invalidName(what:name:reason:)``.
    @discardableResult
    public func delete(_ name: String) async throws -> Bool {
        try MetaRecordNames.validateTenant(name)
        guard name != TenantRecord.defaultName else { throw Self.defaultNotDeletable }
        guard case .deleted(_, let count) = try await client.delete(TenantRecord.key(name: name)) else { return false }
        return count > 0
    }

    /// The error deleting `default` throws.
    public static let defaultNotDeletable = MetaRecordError.invalidName(
        what: "tenant", name: TenantRecord.defaultName, reason: "the default tenant cannot be deleted")

    static func decode(_ value: [UInt8], key: String) throws(MetaRecordError) -> TenantRecord {
        do {
            return try TenantRecord(bytes: value)
        } catch {
            throw .corrupt(key: key, reason: error.description)
        }
    }
}
