import Foundation
import Shared

/// One ban as stored in meta under `/security/blacklist/<kind>/<value>` (JSON). A ban with a TTL
/// carries its expiry and is written under a meta lease of the same length, so meta deletes it
/// when it runs out; brokers also ignore it from `expiresAtMillis` on.
public struct BlacklistRecord: Codable, Sendable, Equatable {
    /// What a ban applies to.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// An MQTT client identifier.
        case clientid
        /// An authenticated user name.
        case user
        /// A peer address or network (CIDR).
        case cidr
    }

    /// The key prefix of every ban.
    public static let prefix = "/security/blacklist/"

    /// What is banned.
    public var kind: Kind
    /// The client id, user name, or network (normalized to `address/prefix`).
    public var value: String
    /// When the ban ends (milliseconds since the epoch); `nil` for permanent.
    public var expiresAtMillis: Int64?
    /// Free text for operators.
    public var reason: String
    /// Who added it (informational, from ctl).
    public var createdBy: String?
    /// When it was added, in milliseconds since the epoch.
    public var createdAtMillis: Int64?

    /// A record; a `cidr` value is normalized (host bits cleared). Throws for an empty value or
    /// an unparsable network.
    public init(
        kind: Kind, value: String, expiresAtMillis: Int64? = nil, reason: String = "", createdBy: String? = nil,
        createdAtMillis: Int64? = nil
    ) throws(BlacklistRecordError) {
        self.kind = kind
        self.value = value
        self.expiresAtMillis = expiresAtMillis
        self.reason = reason
        self.createdBy = createdBy
        self.createdAtMillis = createdAtMillis
        try validate()
        if kind == .cidr, let network = IPNetwork(value) { self.value = network.description }
    }

    /// The meta key.
    public var key: String { Self.prefix + kind.rawValue + "/" + value }

    /// Checks the value.
    public func validate() throws(BlacklistRecordError) {
        guard !value.isEmpty, value.utf8.count <= 1024 else { throw .invalidValue(kind, value) }
        if kind == .cidr, IPNetwork(value) == nil { throw .invalidValue(kind, value) }
    }

    /// The blacklist entry.
    public var entry: Blacklist.Entry {
        let target: Blacklist.Target
        switch kind {
        case .clientid: target = .clientID(value)
        case .user: target = .username(value)
        case .cidr: target = IPNetwork(value).map { .network($0) } ?? .clientID("")
        }
        let expiry = expiresAtMillis.map { Date(timeIntervalSince1970: Double($0) / 1000) }
        return Blacklist.Entry(target: target, expiresAt: expiry, reason: reason)
    }

    /// The stored JSON.
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? Array(encoder.encode(self))) ?? []
    }

    /// Decodes and validates a stored value.
    public init(decoding bytes: [UInt8]) throws(BlacklistRecordError) {
        do {
            self = try JSONDecoder().decode(BlacklistRecord.self, from: Data(bytes))
        } catch {
            throw .undecodable("\(error)")
        }
        try validate()
    }
}

/// Why a ``BlacklistRecord`` is refused.
public enum BlacklistRecordError: Error, Equatable, CustomStringConvertible {
    case invalidValue(BlacklistRecord.Kind, String)
    case undecodable(String)

    public var description: String {
        switch self {
        case .invalidValue(.cidr, let value): "invalid network '\(value)': expected an IPv4/IPv6 address or CIDR such as 10.0.0.0/8"
        case .invalidValue(let kind, let value): "invalid \(kind.rawValue) '\(value)': must be 1-1024 bytes"
        case .undecodable(let why): "unreadable blacklist record: \(why)"
        }
    }
}
