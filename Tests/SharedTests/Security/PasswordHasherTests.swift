import Foundation
import Testing

@testable import Shared

@Suite("PasswordHasher")
struct PasswordHasherTests {
    private static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }

    @Test("PBKDF2-HMAC-SHA256 matches RFC 7914 §11 vectors")
    func rfc7914Vectors() throws {
        let first = try PasswordHasher.pbkdf2SHA256(
            password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1, byteCount: 64)
        #expect(first == Self.hex(
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
                + "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"))
        let second = try PasswordHasher.pbkdf2SHA256(
            password: Array("Password".utf8), salt: Array("NaCl".utf8), iterations: 80_000, byteCount: 64)
        #expect(second == Self.hex(
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
                + "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"))
    }

    @Test("SaltedPassword of the RFC 7677 SCRAM-SHA-256 example")
    func rfc7677SaltedPassword() throws {
        let salt = try #require(Data(base64Encoded: "W22ZaJ0SNY7soEsUEjb6gQ=="))
        let salted = try PasswordHasher.pbkdf2SHA256(
            password: Array("pencil".utf8), salt: [UInt8](salt), iterations: 4096, byteCount: 32)
        let credentials = SCRAMCredentials(saltedPassword: salted, salt: [UInt8](salt), iterations: 4096)
        #expect(Data(credentials.storedKey).base64EncodedString() == "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=")
        #expect(Data(credentials.serverKey).base64EncodedString() == "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=")
    }

    @Test("default hasher: OWASP iteration count, right password verifies, wrong does not")
    func defaultRoundTrip() throws {
        let hasher = try PasswordHasher()
        #expect(hasher.iterations >= 210_000)
        let stored = try hasher.hash("correct horse battery staple")
        #expect(stored.hasPrefix("pbkdf2-sha256$210000$"))
        #expect(try PasswordHasher.verify("correct horse battery staple", against: stored))
        #expect(try !PasswordHasher.verify("correct horse battery stapl", against: stored))
    }

    @Test("wrong passwords, random salts, encoded form round trip")
    func wrongPasswords() throws {
        let hasher = try PasswordHasher(iterations: 1_000)
        let first = try hasher.hash("s3cret")
        let second = try hasher.hash("s3cret")
        #expect(first != second, "each hash has its own random salt")
        let parsed = try PasswordHash(encoded: first)
        #expect(parsed.salt.count == 16)
        #expect(parsed.derivedKey.count == 32)
        #expect(parsed.iterations == 1_000)
        #expect(parsed.encoded == first)
        for wrong in ["", "S3cret", "s3cret ", "s3cre", "s3cret\u{0}", "секрет"] {
            #expect(try !PasswordHasher.verify(wrong, against: first), "\(wrong)")
        }
        #expect(try PasswordHasher.verify("s3cret", against: second))
        #expect(hasher.needsRehash(parsed) == false)
        #expect(try PasswordHasher(iterations: 2_000).needsRehash(parsed))
    }

    @Test("unicode passwords are hashed as UTF-8")
    func unicode() throws {
        let hasher = try PasswordHasher(iterations: 1_000)
        let stored = try hasher.hash("pässwörd🔑")
        #expect(try PasswordHasher.verify("pässwörd🔑", against: stored))
        #expect(try !PasswordHasher.verify("passwörd🔑", against: stored))
    }

    @Test("malformed stored hashes throw typed errors")
    func malformed() throws {
        let good = try PasswordHasher(iterations: 1_000).hash("x")
        let parts = good.split(separator: "$").map(String.init)
        let cases: [(String, PasswordHashError)] = [
            ("", .malformed("field count")),
            ("pbkdf2-sha256$1000$abc", .malformed("field count")),
            ("bcrypt$1000$\(parts[2])$\(parts[3])", .unsupportedScheme("bcrypt")),
            ("pbkdf2-sha256$$\(parts[2])$\(parts[3])", .malformed("iterations")),
            ("pbkdf2-sha256$-5$\(parts[2])$\(parts[3])", .malformed("iterations")),
            ("pbkdf2-sha256$99999999999999$\(parts[2])$\(parts[3])", .malformed("iterations")),
            ("pbkdf2-sha256$10$\(parts[2])$\(parts[3])", .iterationsOutOfRange(10)),
            ("pbkdf2-sha256$999999999$\(parts[2])$\(parts[3])", .iterationsOutOfRange(999_999_999)),
            ("pbkdf2-sha256$1000$!!!$\(parts[3])", .malformed("salt")),
            ("pbkdf2-sha256$1000$$\(parts[3])", .malformed("salt")),
            ("pbkdf2-sha256$1000$\(parts[2])$not base64", .malformed("hash")),
            ("pbkdf2-sha256$1000$\(parts[2])$AAAA", .malformed("hash")),
            ("pbkdf2-sha256$1000$\(parts[2])$\(parts[3])$extra", .malformed("field count")),
            (String(repeating: "a", count: 10_000), .malformed("length")),
        ]
        for (stored, expected) in cases {
            #expect(throws: expected) { try PasswordHasher.verify("x", against: stored) }
        }
        #expect(throws: PasswordHashError.iterationsOutOfRange(999)) { try PasswordHasher(iterations: 999) }
        #expect(throws: PasswordHashError.passwordContainsNUL) { try PasswordHasher(iterations: 1_000).hash("pw\u{0}") }
    }
}
