import Foundation
import MetaService
import Shared
import Testing

@Suite("user records in meta")
struct UserRecordTests {
    @Test("a record stores the hash and SCRAM keys, never the password, and round-trips")
    func roundTrip() throws {
        let record = try UserRecord(username: "alice", password: "s3cret-password", isSuperuser: true, iterations: 1000)
        let bytes = record.encoded()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!text.contains("s3cret-password"))
        #expect(text.contains("pbkdf2-sha256$1000$"))
        #expect(record.key == "/security/users/default/alice")
        let decoded = try UserRecord(bytes: bytes)
        #expect(decoded == record)
        #expect(try PasswordHasher.verify("s3cret-password", against: decoded.passwordHash))
        #expect(try !PasswordHasher.verify("s3cret-passwordx", against: decoded.passwordHash))
        #expect(decoded.scram == SCRAMCredentials(passwordHash: decoded.passwordHash))
    }

    @Test("bad names, empty passwords and malformed records are refused with a reason")
    func refusals() {
        #expect(throws: UserRecordError.self) { try UserRecord(username: "a/b", password: "p", isSuperuser: false, iterations: 1000) }
        #expect(throws: UserRecordError.self) { try UserRecord(username: "", password: "p", isSuperuser: false, iterations: 1000) }
        #expect(throws: UserRecordError.self) { try UserRecord(username: "a", password: "", isSuperuser: false, iterations: 1000) }
        #expect(throws: UserRecordError.self) { try UserRecord(username: "a", password: "p", isSuperuser: false, iterations: 10) }
        #expect(throws: UserRecordError.self) { try UserRecord(bytes: Array("{}".utf8)) }
        #expect(throws: UserRecordError.self) { try UserRecord(bytes: Array("not json".utf8)) }
        #expect(throws: UserRecordError.self) { try UserRecord(bytes: Array(repeating: 0x20, count: 9000)) }
    }
}
