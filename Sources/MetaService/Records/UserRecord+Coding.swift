import Foundation
import Shared

extension UserRecord {
    /// The JSON shape in meta.
    private struct Stored: Codable {
        struct SCRAM: Codable {
            var salt: String
            var iterations: Int
            var storedKey: String
            var serverKey: String
        }

        var version: Int
        var tenant: String
        var username: String
        var superuser: Bool
        var passwordHash: String
        var scram: SCRAM
        var updatedAtMillis: Int64
    }

    /// The current record format.
    public static let formatVersion = 1
    /// Largest stored record accepted by ``init(bytes:)``.
    public static let maximumEncodedLength = 8192

    /// The stored form (JSON, keys sorted).
    public func encoded() -> [UInt8] {
        let stored = Stored(
            version: Self.formatVersion, tenant: tenant, username: username, superuser: isSuperuser,
            passwordHash: passwordHash.encoded,
            scram: .init(
                salt: Data(scram.salt).base64EncodedString(), iterations: scram.iterations,
                storedKey: Data(scram.storedKey).base64EncodedString(), serverKey: Data(scram.serverKey).base64EncodedString()),
            updatedAtMillis: updatedAtMillis)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding strings, numbers and booleans cannot fail.
        return Array((try? encoder.encode(stored)) ?? Data())
    }

    /// Parses a stored record; anything else throws ``UserRecordError/malformed(_:)``.
    public init(bytes: [UInt8]) throws(UserRecordError) {
        guard bytes.count <= Self.maximumEncodedLength else { throw .malformed("longer than \(Self.maximumEncodedLength) bytes") }
        let stored: Stored
        do {
            stored = try JSONDecoder().decode(Stored.self, from: Data(bytes))
        } catch {
            throw .malformed("not a user record: \(error)")
        }
        guard stored.version == Self.formatVersion else { throw .malformed("unknown version \(stored.version)") }
        try Self.validate(name: stored.tenant, what: "tenant")
        try Self.validate(name: stored.username, what: "user name")
        let hash: PasswordHash
        do {
            hash = try PasswordHash(encoded: stored.passwordHash)
        } catch {
            throw .malformed("password hash: \(error)")
        }
        guard let salt = Data(base64Encoded: stored.scram.salt), !salt.isEmpty,
              let storedKey = Data(base64Encoded: stored.scram.storedKey), storedKey.count == 32,
              let serverKey = Data(base64Encoded: stored.scram.serverKey), serverKey.count == 32,
              PasswordHasher.acceptedIterations.contains(stored.scram.iterations)
        else { throw .malformed("scram keys") }
        self.init(
            tenant: stored.tenant, username: stored.username, isSuperuser: stored.superuser, passwordHash: hash,
            scram: SCRAMCredentials(
                salt: Array(salt), iterations: stored.scram.iterations, storedKey: Array(storedKey), serverKey: Array(serverKey)),
            updatedAtMillis: stored.updatedAtMillis)
    }
}
