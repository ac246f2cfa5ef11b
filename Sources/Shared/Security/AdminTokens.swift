import Crypto
import Foundation

/// The bearer tokens of the admin HTTP API (`admin.auth.tokens-file`), each with a role.
///
/// File format: one `<token> <role>` per line (whitespace separated), `#` starts a comment, blank
/// lines are ignored; roles are `viewer` and `admin`; tokens are at least 16 characters. Only
/// SHA-256 digests are kept in memory, and a lookup compares the digest of the presented token
/// with every stored digest in constant time, so timing reveals neither a token nor its prefix.
public struct AdminTokens: Sendable {
    /// What a token may do.
    public enum Role: String, Sendable, Comparable {
        /// Read `/metrics` and `/health/*`.
        case viewer
        /// Everything.
        case admin

        public static func < (lhs: Role, rhs: Role) -> Bool { lhs == .viewer && rhs == .admin }
    }

    private var digests: [(digest: [UInt8], role: Role)] = []

    /// The number of tokens.
    public var count: Int { digests.count }

    /// Tokens from `(token, role)` pairs.
    public init(_ tokens: [(String, Role)]) {
        digests = tokens.map { (Self.digest($0.0), $0.1) }
    }

    /// Parses the tokens file text; the error names the line.
    public init(parsing text: String, path: String = "tokens file") throws(AdminTokensError) {
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if words.isEmpty { continue }
            guard words.count == 2 else { throw .malformedLine(path: path, line: index + 1, "expected '<token> <role>'") }
            guard words[0].count >= 16 else { throw .malformedLine(path: path, line: index + 1, "the token must be at least 16 characters") }
            guard let role = Role(rawValue: String(words[1])) else {
                throw .malformedLine(path: path, line: index + 1, "unknown role '\(words[1])' (expected viewer or admin)")
            }
            digests.append((Self.digest(String(words[0])), role))
        }
        guard !digests.isEmpty else { throw .empty(path: path) }
    }

    /// Reads and parses a tokens file.
    public init(contentsOfFile path: String) throws(AdminTokensError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path: path, "\(error.localizedDescription)")
        }
        try self.init(parsing: text, path: path)
    }

    /// The role of `token`, or `nil` when it is not known. Every stored digest is compared.
    public func role(of token: String) -> Role? {
        let presented = Self.digest(token)
        var found: Role?
        for entry in digests where ConstantTime.equals(entry.digest, presented) {
            if let current = found, entry.role <= current { continue }
            found = entry.role
        }
        return found
    }

    private static func digest(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(token.utf8)))
    }
}

/// Why a tokens file is refused.
public enum AdminTokensError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, String)
    case malformedLine(path: String, line: Int, String)
    case empty(path: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let why): "admin.auth.tokens-file '\(path)' cannot be read: \(why)"
        case .malformedLine(let path, let line, let why): "admin.auth.tokens-file '\(path)' line \(line): \(why)"
        case .empty(let path): "admin.auth.tokens-file '\(path)' holds no tokens"
        }
    }
}
