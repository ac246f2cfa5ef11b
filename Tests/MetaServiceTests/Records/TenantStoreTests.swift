import Shared
import Testing

@testable import MetaService

/// ``TenantStore`` against a real 3-voter in-process meta cluster.
@Suite("Tenant store", .serialized)
struct TenantStoreTests {
    @Test func tenantsAreCreatedOnceUpdatedByCASAndDefaultIsImplicit() async throws {
        let cluster = try MetaTestCluster()
        _ = try await cluster.awaitLeader()
        let tenants = TenantStore(client: cluster.client())

        // `default` exists without a record: active, unlimited, listed; it cannot be deleted.
        #expect(try await tenants.get("default") == TenantRecord.implicitDefault)
        #expect(try await tenants.list() == [TenantRecord.implicitDefault])
        await #expect(throws: TenantStore.defaultNotDeletable) { try await tenants.delete("default") }
        #expect(try await tenants.get("acme") == nil)

        let acme = TenantRecord(name: "acme", description: "Acme", createdAtMillis: 10, limits: .init(maxConnections: 100))
        try await tenants.create(acme)
        await #expect(throws: MetaRecordError.alreadyExists(key: "/tenants/acme")) {
            try await tenants.create(TenantRecord(name: "acme", createdAtMillis: 11))
        }
        await #expect(throws: MetaRecordError.self) { try await tenants.create(TenantRecord(name: "bad name", createdAtMillis: 0)) }
        await #expect(throws: MetaRecordError.self) { try await tenants.get("bad/name") }
        #expect(try await tenants.get("acme") == acme, "the first create's record is kept")
        try await tenants.create(TenantRecord(name: "zeta", createdAtMillis: 12))
        #expect(try await tenants.list().map(\.name) == ["acme", "default", "zeta"])

        // Of concurrent creates of one name exactly one wins.
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<4 {
                group.addTask {
                    do {
                        try await tenants.create(TenantRecord(name: "race", createdAtMillis: UInt64(index)))
                        return true
                    } catch MetaRecordError.alreadyExists(_) {
                        return false
                    }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)

        // Concurrent updates of different fields are all applied (compare-and-set, no lost update).
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await tenants.update("acme") { $0.limits.maxSessions = 7 } }
            group.addTask { try await tenants.update("acme") { $0.limits.maxTopics = 8 } }
            group.addTask { try await tenants.update("acme") { $0.description = "Acme Corp" } }
            group.addTask { try await tenants.setState("acme", to: .disabled) }
            try await group.waitForAll()
        }
        let updated = try #require(try await tenants.get("acme"))
        #expect(updated == TenantRecord(name: "acme", description: "Acme Corp", createdAtMillis: 10, state: .disabled,
                                        limits: .init(maxConnections: 100, maxSessions: 7, maxTopics: 8)))
        // An update that makes the record invalid is refused and changes nothing; the name cannot change.
        await #expect(throws: MetaRecordError.self) { try await tenants.update("acme") { $0.limits.maxTopics = -1 } }
        #expect(try await tenants.update("acme") { $0.name = "other" }.name == "acme")
        #expect(try await tenants.get("acme") == updated)
        #expect(try await tenants.setState("acme", to: .active).state == .active)
        await #expect(throws: MetaRecordError.notFound(key: "/tenants/nobody")) { try await tenants.setState("nobody", to: .disabled) }

        // Updating `default` stores a record starting from the implicit one.
        try await tenants.update("default") { $0.limits.maxConnections = 5 }
        #expect(try await tenants.get("default") == TenantRecord(name: "default", createdAtMillis: 0, limits: .init(maxConnections: 5)))
        await #expect(throws: TenantStore.defaultNotDeletable) { try await tenants.delete("default") }

        #expect(try await tenants.delete("acme"))
        #expect(try await !tenants.delete("acme"))
        #expect(try await tenants.get("acme") == nil)
        await cluster.shutdown()
    }
}
