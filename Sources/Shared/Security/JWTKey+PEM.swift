import Crypto
import Foundation
import _CryptoExtras

/// Why a configured JWT key could not be loaded.
public enum JWTKeyLoadingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file cannot be read.
    case unreadable(file: String, problem: String)
    /// The file is not an RSA or P-256 public key in PEM form.
    case notAPublicKey(file: String)
    /// An HS256 secret shorter than 32 bytes.
    case secretTooShort(file: String, bytes: Int)
    /// A `kid=path` list entry is malformed or a key id repeats.
    case badEntry(String)

    public var description: String {
        switch self {
        case .unreadable(let file, let problem): "cannot read JWT key file \(file): \(problem)"
        case .notAPublicKey(let file): "\(file) is not a PEM RSA or P-256 (EC) public key"
        case .secretTooShort(let file, let bytes): "the HS256 secret in \(file) has \(bytes) bytes; at least 32 are needed"
        case .badEntry(let entry): "bad JWT key entry '\(entry)': expected [kid=]path, key ids unique"
        }
    }
}

extension JWTKey {
    /// Shortest HS256 secret accepted (RFC 7518 §3.2: at least the hash size).
    public static let minimumSecretLength = 32

    /// A key from a PEM public key: RSA keys verify RS256, P-256 keys ES256.
    public static func publicKey(id: String, pem: String, file: String) throws(JWTKeyLoadingError) -> JWTKey {
        if let rsa = try? _RSA.Signing.PublicKey(pemRepresentation: pem) {
            return JWTKey(id: id, material: .rsa(rsa))
        }
        if let p256 = try? P256.Signing.PublicKey(pemRepresentation: pem) {
            return JWTKey(id: id, material: .p256(p256))
        }
        throw .notAPublicKey(file: file)
    }

    /// An HS256 key from a secret (one trailing newline is ignored).
    public static func secret(id: String, bytes: [UInt8], file: String) throws(JWTKeyLoadingError) -> JWTKey {
        var secret = bytes
        if secret.last == UInt8(ascii: "\n") { secret.removeLast() }
        if secret.last == UInt8(ascii: "\r") { secret.removeLast() }
        guard secret.count >= minimumSecretLength else { throw .secretTooShort(file: file, bytes: secret.count) }
        return JWTKey(id: id, material: .hmacSHA256(SymmetricKey(data: secret)))
    }
}

extension JWTKeySet {
    /// Loads `[kid=]path` lists (comma separated) of HS256 secret files and PEM public key files.
    /// An entry without `kid=` gets its file name as key id; tokens without `kid` verify only
    /// when exactly one key is configured.
    public static func load(secretFiles: String, publicKeyFiles: String) throws(JWTKeyLoadingError) -> JWTKeySet {
        var set = JWTKeySet()
        for (id, path) in try entries(secretFiles) {
            guard !set.ids.contains(id) else { throw .badEntry("\(id)=\(path)") }
            set.insert(try .secret(id: id, bytes: try read(path), file: path))
        }
        for (id, path) in try entries(publicKeyFiles) {
            guard !set.ids.contains(id) else { throw .badEntry("\(id)=\(path)") }
            set.insert(try .publicKey(id: id, pem: String(decoding: try read(path), as: UTF8.self), file: path))
        }
        return set
    }

    private static func entries(_ list: String) throws(JWTKeyLoadingError) -> [(String, String)] {
        var result: [(String, String)] = []
        var seen = Set<String>()
        for raw in list.split(separator: ",") {
            let entry = raw.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty else { continue }
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            let id = parts.count == 2 ? parts[0] : URL(fileURLWithPath: entry).lastPathComponent
            let path = parts.count == 2 ? parts[1] : entry
            guard !id.isEmpty, !path.isEmpty, seen.insert(id).inserted else { throw .badEntry(entry) }
            result.append((id, path))
        }
        return result
    }

    private static func read(_ path: String) throws(JWTKeyLoadingError) -> [UInt8] {
        do {
            return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .unreadable(file: path, problem: error.localizedDescription)
        }
    }
}
