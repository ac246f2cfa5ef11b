import Crypto
import Foundation

/// Client side of SCRAM-SHA-256 (RFC 5802 / RFC 7677) without channel binding, as an IO-free
/// value: for tools and tests that authenticate against ``SCRAMServer`` (e.g. over MQTT 5 AUTH).
public struct SCRAMClient: Sendable {
    /// The user name.
    public let username: String
    private let password: String
    private let nonce: String
    private var authMessage: [UInt8] = []
    private var serverKey: [UInt8] = []

    /// A client for `username` / `password`; `nonce` must be printable ASCII without `,`.
    public init(username: String, password: String, nonce: String = SCRAMServer.randomNonce()) {
        self.username = username
        self.password = password
        self.nonce = nonce
    }

    private var clientFirstBare: String {
        let escaped = username.replacingOccurrences(of: "=", with: "=3D").replacingOccurrences(of: ",", with: "=2C")
        return "n=\(escaped),r=\(nonce)"
    }

    /// client-first-message.
    public func clientFirst() -> [UInt8] {
        Array("n,,\(clientFirstBare)".utf8)
    }

    /// client-final-message for the server's server-first-message.
    public mutating func clientFinal(serverFirst: [UInt8]) throws(SCRAMError) -> [UInt8] {
        guard let text = String(validating: serverFirst, as: UTF8.self) else { throw .malformedMessage("server-first encoding") }
        var attributes: [Character: String] = [:]
        for field in text.split(separator: ",") where field.count >= 2 {
            if let key = field.first { attributes[key] = String(field.dropFirst(2)) }
        }
        guard let combined = attributes["r"], combined.hasPrefix(nonce), combined.count > nonce.count else { throw .nonceMismatch }
        guard let saltText = attributes["s"], let salt = Data(base64Encoded: saltText),
              let iterationText = attributes["i"], let iterations = Int(iterationText), iterations >= 1, iterations <= 10_000_000
        else { throw .malformedMessage("server-first attributes") }
        let salted: [UInt8]
        do {
            salted = try PasswordHasher.pbkdf2SHA256(
                password: Array(password.utf8), salt: Array(salt), iterations: iterations, byteCount: 32)
        } catch {
            throw .malformedMessage("iterations")
        }
        let key = SymmetricKey(data: salted)
        let clientKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Client Key".utf8), using: key))
        let storedKey = Array(SHA256.hash(data: clientKey))
        let withoutProof = "c=biws,r=\(combined)"
        authMessage = Array("\(clientFirstBare),\(text),\(withoutProof)".utf8)
        let signature = HMAC<SHA256>.authenticationCode(for: authMessage, using: SymmetricKey(data: storedKey))
        let proof = zip(clientKey, signature).map { $0 ^ $1 }
        serverKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Server Key".utf8), using: key))
        return Array("\(withoutProof),p=\(Data(proof).base64EncodedString())".utf8)
    }

    /// Whether server-final-message proves the server knows the user's keys.
    public func verify(serverFinal: [UInt8]) -> Bool {
        guard !serverKey.isEmpty else { return false }
        let signature = HMAC<SHA256>.authenticationCode(for: authMessage, using: SymmetricKey(data: serverKey))
        return ConstantTime.equals(serverFinal, Array("v=\(Data(signature).base64EncodedString())".utf8))
    }
}
