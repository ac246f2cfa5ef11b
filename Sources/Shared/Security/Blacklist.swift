import Foundation

/// Banned client ids, user names and networks, each with an optional expiry. IO-free: the
/// current time is passed in.
public struct Blacklist: Sendable {
    /// What an entry bans.
    public enum Target: Sendable, Hashable {
        /// A client identifier.
        case clientID(String)
        /// A user name.
        case username(String)
        /// Every address in a network.
        case network(IPNetwork)
    }

    /// One ban.
    public struct Entry: Sendable, Hashable {
        /// What is banned.
        public var target: Target
        /// When the ban ends; `nil` for permanent.
        public var expiresAt: Date?
        /// Free-form reason for operators.
        public var reason: String

        /// Creates an entry.
        public init(target: Target, expiresAt: Date?, reason: String = "") {
            self.target = target
            self.expiresAt = expiresAt
            self.reason = reason
        }

        /// Whether the ban is in force at `now`.
        public func isActive(at now: Date) -> Bool {
            guard let expiresAt else { return true }
            return now < expiresAt
        }
    }

    private var exact: [Target: Entry] = [:]
    private var networks: [Entry] = []

    /// Creates an empty blacklist.
    public init() {}

    /// Adds or replaces the ban on `entry.target`.
    public mutating func add(_ entry: Entry) {
        if case .network = entry.target {
            networks.removeAll { $0.target == entry.target }
            networks.append(entry)
        } else {
            exact[entry.target] = entry
        }
    }

    /// Lifts the ban on `target`.
    public mutating func remove(_ target: Target) {
        exact[target] = nil
        networks.removeAll { $0.target == target }
    }

    /// Drops expired entries.
    public mutating func purgeExpired(now: Date) {
        exact = exact.filter { $0.value.isActive(at: now) }
        networks.removeAll { !$0.isActive(at: now) }
    }

    /// All entries, active or not.
    public var entries: [Entry] { Array(exact.values) + networks }

    /// The first active ban matching this connection, or `nil` if it may connect.
    public func ban(clientID: String, username: String?, peerAddress: IPAddress?, now: Date) -> Entry? {
        if let entry = exact[.clientID(clientID)], entry.isActive(at: now) { return entry }
        if let username, let entry = exact[.username(username)], entry.isActive(at: now) { return entry }
        if let peerAddress {
            for entry in networks where entry.isActive(at: now) {
                if case .network(let network) = entry.target, network.contains(peerAddress) { return entry }
            }
        }
        return nil
    }
}
