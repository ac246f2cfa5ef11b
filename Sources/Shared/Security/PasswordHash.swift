import Foundation

/// A parsed PBKDF2-HMAC-SHA256 password hash: `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`.
///
/// The derived hash is exactly the SCRAM-SHA-256 `SaltedPassword` for the same salt and
/// iteration count, so a stored hash also yields SCRAM credentials (`SCRAMCredentials`).
public struct PasswordHash: Sendable, Hashable {
    /// The scheme prefix of the encoded form.
    public static let scheme = "pbkdf2-sha256"
    /// Longest encoded form accepted by `init(encoded:)`; longer input is refused unparsed.
    public static let maximumEncodedLength = 512

    /// PBKDF2 iteration count.
    public let iterations: Int
    /// The random salt.
    public let salt: [UInt8]
    /// The derived key (32 bytes for the hashes this module produces).
    public let derivedKey: [UInt8]

    /// Creates a hash from its parts, checking the iteration range.
    public init(iterations: Int, salt: [UInt8], derivedKey: [UInt8]) throws(PasswordHashError) {
        guard PasswordHasher.acceptedIterations.contains(iterations) else {
            throw .iterationsOutOfRange(iterations)
        }
        guard !salt.isEmpty else { throw .malformed("salt") }
        guard derivedKey.count >= 16, derivedKey.count <= 64 else { throw .malformed("hash") }
        self.iterations = iterations
        self.salt = salt
        self.derivedKey = derivedKey
    }

    /// Parses the self-describing string form; malformed input throws, never traps.
    public init(encoded: String) throws(PasswordHashError) {
        guard encoded.utf8.count <= Self.maximumEncodedLength else { throw .malformed("length") }
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4 else { throw .malformed("field count") }
        guard parts[0] == Self.scheme else { throw .unsupportedScheme(String(parts[0])) }
        let iterationText = parts[1]
        guard !iterationText.isEmpty, iterationText.utf8.count <= 9,
              iterationText.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let iterations = Int(iterationText)
        else { throw .malformed("iterations") }
        guard let salt = Data(base64Encoded: String(parts[2])) else { throw .malformed("salt") }
        guard let key = Data(base64Encoded: String(parts[3])) else { throw .malformed("hash") }
        try self.init(iterations: iterations, salt: [UInt8](salt), derivedKey: [UInt8](key))
    }

    /// The self-describing string form.
    public var encoded: String {
        "\(Self.scheme)$\(iterations)$\(Data(salt).base64EncodedString())$\(Data(derivedKey).base64EncodedString())"
    }
}
