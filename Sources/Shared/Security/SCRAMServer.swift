import Crypto
import Foundation

/// Server side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as an IO-free state machine, for MQTT 5
/// enhanced authentication (AUTH packets carrying method `SCRAM-SHA-256`).
///
/// The driver feeds the messages in order:
/// 1. `receiveClientFirst(_:)` returns the user name; the driver looks up its credentials.
/// 2. `serverFirst(credentials:)` returns the server-first message (pass `nil` for an unknown
///    user: a decoy salt is sent and the exchange fails at the proof, so user names cannot be
///    probed).
/// 3. `receiveClientFinal(_:)` checks the proof in constant time and returns the server-final
///    message; `authenticatedUsername` is then set.
///
/// Channel binding (`SCRAM-SHA-256-PLUS`) is not supported; clients sending `p=` are refused.
public struct SCRAMServer: Sendable {
    /// The SASL / MQTT authentication method name.
    public static let mechanism = "SCRAM-SHA-256"
    /// Longest client message accepted.
    public static let maximumMessageLength = 4096

    private enum State: Sendable {
        case awaitingClientFirst
        case awaitingCredentials(gs2Header: String, clientFirstBare: String, username: String, clientNonce: String)
        case awaitingClientFinal(
            gs2Header: String, clientFirstBare: String, serverFirst: String, username: String,
            nonce: String, credentials: SCRAMCredentials?)
        case succeeded(username: String)
        case failed
    }

    private var state: State = .awaitingClientFirst
    private let nonceGenerator: @Sendable () -> String
    private let decoyIterations: Int

    /// Creates a server exchange. `nonceGenerator` supplies the server nonce part (printable
    /// ASCII without `,`; at least 18 random bytes' worth in production). `decoyIterations` is
    /// announced for unknown users so they look like real ones.
    public init(
        decoyIterations: Int = 4096,
        nonceGenerator: @escaping @Sendable () -> String = SCRAMServer.randomNonce
    ) {
        self.nonceGenerator = nonceGenerator
        self.decoyIterations = decoyIterations
    }

    /// A random 24-byte nonce, base64 encoded.
    @Sendable public static func randomNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<24).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
    }

    /// The user name proven by a completed exchange, `nil` before success.
    public var authenticatedUsername: String? {
        if case .succeeded(let username) = state { return username }
        return nil
    }

    /// Handles client-first-message (`n,,n=user,r=nonce`) and returns the user name.
    public mutating func receiveClientFirst(_ message: [UInt8]) throws(SCRAMError) -> String {
        guard case .awaitingClientFirst = state else { return try fail(.unexpectedMessage) }
        do throws(SCRAMError) {
            let text = try Self.text(message)
            let (gs2Header, bare) = try Self.splitGS2Header(text)
            let attributes = try Self.attributes(Substring(bare))
            if attributes.first?.key == "m" { throw .unsupportedExtension }
            guard attributes.count >= 2, attributes[0].key == "n", attributes[1].key == "r" else {
                throw .malformedMessage("client-first attributes")
            }
            let username = try Self.decodeSaslName(attributes[0].value)
            let clientNonce = attributes[1].value
            guard Self.isValidNonce(clientNonce) else { throw .malformedMessage("nonce") }
            if let authzid = gs2Header.authzid, authzid != username { throw .unsupportedAuthorizationIdentity }
            state = .awaitingCredentials(
                gs2Header: gs2Header.raw, clientFirstBare: bare, username: username, clientNonce: String(clientNonce))
            return username
        } catch {
            return try fail(error)
        }
    }

    /// Produces server-first-message (`r=<nonce>,s=<salt>,i=<iterations>`) for the looked-up
    /// credentials, or for decoy credentials when `credentials` is `nil`.
    public mutating func serverFirst(credentials: SCRAMCredentials?) throws(SCRAMError) -> [UInt8] {
        guard case .awaitingCredentials(let gs2Header, let bare, let username, let clientNonce) = state else {
            return try fail(.unexpectedMessage)
        }
        let serverNonce = nonceGenerator()
        guard Self.isValidNonce(serverNonce) else { return try fail(.malformedMessage("server nonce")) }
        let nonce = clientNonce + serverNonce
        let salt: [UInt8]
        let iterations: Int
        if let credentials {
            salt = credentials.salt
            iterations = credentials.iterations
        } else {
            var generator = SystemRandomNumberGenerator()
            salt = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            iterations = decoyIterations
        }
        let serverFirst = "r=\(nonce),s=\(Data(salt).base64EncodedString()),i=\(iterations)"
        state = .awaitingClientFinal(
            gs2Header: gs2Header, clientFirstBare: bare, serverFirst: serverFirst, username: username,
            nonce: nonce, credentials: credentials)
        return Array(serverFirst.utf8)
    }

    /// Handles client-final-message (`c=...,r=...,p=...`): verifies the proof in constant time
    /// and returns server-final-message (`v=<server signature>`).
    public mutating func receiveClientFinal(_ message: [UInt8]) throws(SCRAMError) -> [UInt8] {
        guard case .awaitingClientFinal(let gs2Header, let bare, let serverFirst, let username, let nonce, let credentials) = state
        else { return try fail(.unexpectedMessage) }
        do throws(SCRAMError) {
            let text = try Self.text(message)
            let attributes = try Self.attributes(Substring(text))
            guard attributes.count >= 3, attributes[0].key == "c", attributes[1].key == "r",
                  let proofAttribute = attributes.last, proofAttribute.key == "p"
            else { throw .malformedMessage("client-final attributes") }
            guard let binding = Data(base64Encoded: String(attributes[0].value)),
                  String(decoding: binding, as: UTF8.self) == gs2Header
            else { throw .channelBindingMismatch }
            guard ConstantTime.equals(Array(attributes[1].value.utf8), Array(nonce.utf8)) else { throw .nonceMismatch }
            guard let proof = Data(base64Encoded: String(proofAttribute.value)), proof.count == SHA256.byteCount else {
                throw .malformedMessage("proof")
            }
            guard let withoutProof = text.range(of: ",p=", options: .backwards) else {
                throw .malformedMessage("proof")
            }
            let authMessage = Array("\(bare),\(serverFirst),\(text[..<withoutProof.lowerBound])".utf8)
            guard let credentials else { throw .authenticationFailed }
            let clientSignature = HMAC<SHA256>.authenticationCode(
                for: authMessage, using: SymmetricKey(data: credentials.storedKey))
            let clientKey = zip(proof, clientSignature).map { $0 ^ $1 }
            let candidate = Array(SHA256.hash(data: clientKey))
            guard ConstantTime.equals(candidate, credentials.storedKey) else { throw .authenticationFailed }
            let serverSignature = HMAC<SHA256>.authenticationCode(
                for: authMessage, using: SymmetricKey(data: credentials.serverKey))
            state = .succeeded(username: username)
            return Array("v=\(Data(serverSignature).base64EncodedString())".utf8)
        } catch {
            return try fail(error)
        }
    }

    private mutating func fail<T>(_ error: SCRAMError) throws(SCRAMError) -> T {
        state = .failed
        throw error
    }

    // MARK: - Parsing (RFC 5802 §7)

    private static func text(_ message: [UInt8]) throws(SCRAMError) -> String {
        guard !message.isEmpty, message.count <= maximumMessageLength else { throw .malformedMessage("length") }
        guard let text = String(validating: message, as: UTF8.self), !text.unicodeScalars.contains("\0") else {
            throw .malformedMessage("encoding")
        }
        return text
    }

    private struct GS2Header {
        var raw: String
        var authzid: String?
    }

    private static func splitGS2Header(_ text: String) throws(SCRAMError) -> (GS2Header, String) {
        let fields = text.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3 else { throw .malformedMessage("gs2 header") }
        switch fields[0] {
        case "n", "y": break
        case let flag where flag.hasPrefix("p="): throw .channelBindingNotSupported
        default: throw .malformedMessage("gs2 flag")
        }
        var authzid: String?
        if !fields[1].isEmpty {
            guard fields[1].hasPrefix("a=") else { throw .malformedMessage("authzid") }
            authzid = try decodeSaslName(fields[1].dropFirst(2))
        }
        return (GS2Header(raw: "\(fields[0]),\(fields[1]),", authzid: authzid), String(fields[2]))
    }

    private static func attributes(_ text: Substring) throws(SCRAMError) -> [(key: Character, value: Substring)] {
        var result: [(key: Character, value: Substring)] = []
        for field in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard field.count >= 2, let key = field.first, key.isASCII, key.isLetter,
                  field[field.index(after: field.startIndex)] == "="
            else { throw .malformedMessage("attribute") }
            result.append((key, field.dropFirst(2)))
        }
        return result
    }

    private static func decodeSaslName(_ name: Substring) throws(SCRAMError) -> String {
        guard !name.isEmpty else { throw .malformedMessage("username") }
        var result = ""
        var index = name.startIndex
        while index < name.endIndex {
            let character = name[index]
            if character == "=" {
                let escape = name[index...].prefix(3)
                switch escape {
                case "=2C": result.append(",")
                case "=3D": result.append("=")
                default: throw .malformedMessage("username escape")
                }
                index = name.index(index, offsetBy: 3)
            } else {
                result.append(character)
                index = name.index(after: index)
            }
        }
        return result
    }

    private static func isValidNonce(_ nonce: some StringProtocol) -> Bool {
        !nonce.isEmpty && nonce.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E && $0 != UInt8(ascii: ",") }
    }
}
