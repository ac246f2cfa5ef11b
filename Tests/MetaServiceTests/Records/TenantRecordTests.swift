import NIOCore
import PropertyBased
import Shared
import Testing

@testable import MetaService

@Suite("Tenant records")
struct TenantRecordTests {
    @Test func tenantsRoundTrip() async {
        await propertyCheck(input: Gen.int(in: 0...TenantRecord.maxLimit), Gen.uint64(), Gen.int(in: 0...TenantRecord.maxDescriptionBytes), Gen.bool) {
            limit, created, descriptionBytes, disabled in
            let tenant = TenantRecord(
                name: "t-\(limit % 1000)", description: String(repeating: "d", count: descriptionBytes), createdAtMillis: created,
                state: disabled ? .disabled : .active,
                limits: .init(maxConnections: limit, maxSessions: limit / 2, maxTopics: TenantRecord.maxLimit - limit))
            #expect((try? TenantRecord(bytes: tenant.encodedBytes)) == tenant)
        }
    }

    @Test func malformedTenantsAreTypedErrors() {
        let good = TenantRecord(name: "acme", description: "Acme Corp", createdAtMillis: 1_700_000_000_000, state: .disabled,
                                limits: .init(maxConnections: 100, maxSessions: 50, maxTopics: 10)).encodedBytes
        #expect((try? TenantRecord(bytes: good))?.limits.maxTopics == 10)
        for length in 0..<good.count {
            #expect(throws: WireDecodingError.self) { try TenantRecord(bytes: Array(good.prefix(length))) }
        }
        #expect(throws: WireDecodingError.invalidValue(what: "tenant record", reason: "trailing bytes")) { try TenantRecord(bytes: good + [0]) }
        #expect(throws: WireDecodingError.unknownTag(what: "tenant record version", tag: 2)) { try TenantRecord(bytes: [2] + good.dropFirst()) }
        // The state byte follows version, name ("acme": 1 + 4), description (1 + 9) and the varint time (6 bytes).
        var badState = good
        let stateIndex = 1 + 5 + 10 + 6
        #expect(badState[stateIndex] == TenantRecord.State.disabled.rawValue)
        badState[stateIndex] = 9
        #expect(throws: WireDecodingError.unknownTag(what: "tenant state", tag: 9)) { try TenantRecord(bytes: badState) }
        // A declared name length beyond the limit is refused before reading it.
        #expect(throws: WireDecodingError.self) { try TenantRecord(bytes: [1, 0xFF, 0xFF, 0x03]) }
        // Values that encode but are not valid tenants are refused on decode and by validate().
        for bad in [
            TenantRecord(name: "no/slash", createdAtMillis: 0),
            TenantRecord(name: "", createdAtMillis: 0),
            TenantRecord(name: "..", createdAtMillis: 0),
            TenantRecord(name: "acme", description: String(repeating: "x", count: TenantRecord.maxDescriptionBytes + 1), createdAtMillis: 0),
            TenantRecord(name: "acme", createdAtMillis: 0, limits: .init(maxConnections: TenantRecord.maxLimit + 1)),
        ] {
            #expect(throws: WireDecodingError.self) { try TenantRecord(bytes: bad.encodedBytes) }
            #expect(throws: MetaRecordError.self) { try bad.validate() }
        }
        #expect(throws: MetaRecordError.self) {
            try TenantRecord(name: "acme", createdAtMillis: 0, limits: .init(maxSessions: -1)).validate()
        }
    }
}
