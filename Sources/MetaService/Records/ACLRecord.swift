import Foundation
import Shared

/// One access-control rule as stored in meta under
/// `/security/acl/<tenant>/<priority, six digits>-<id>` (JSON), so a prefix range returns a
/// tenant's rules in evaluation order. Written by `tributary ctl acl add`, read by every broker
/// through a meta watch.
public struct ACLRecord: Codable, Sendable, Equatable {
    /// Highest priority a rule may have (six decimal digits in the key).
    public static let maximumPriority = 999_999
    /// The key prefix of every rule.
    public static let prefix = "/security/acl/"

    /// The tenant the rule belongs to (`default` until tenants exist).
    public var tenant: String
    /// Identifier, unique within the tenant: letters, digits, `-` and `_`, at most 64.
    public var id: String
    /// Evaluation order: lower runs first (0…999999).
    public var priority: Int
    /// Allow or deny.
    public var permission: ACLPermission
    /// publish, subscribe or all.
    public var action: ACLAction
    /// Topic filter, with `%u` / `%c` as whole levels.
    public var topic: String
    /// Only requests authenticated as this user name.
    public var user: String?
    /// Only requests from this client identifier.
    public var clientID: String?
    /// Only peers in one of these networks (CIDR or bare addresses); empty means any.
    public var sources: [String]
    /// Only these QoS levels (publish QoS, or the QoS a SUBSCRIBE asks for); `nil` means any.
    public var qos: [UInt8]?
    /// Only retained (`true`) or only non-retained (`false`) publishes; `nil` means either.
    public var retain: Bool?
    /// Who added it (informational, from ctl).
    public var createdBy: String?
    /// When it was added, in milliseconds since the epoch.
    public var createdAtMillis: Int64?

    /// A record.
    public init(
        tenant: String = "default", id: String, priority: Int, permission: ACLPermission, action: ACLAction,
        topic: String, user: String? = nil, clientID: String? = nil, sources: [String] = [], qos: [UInt8]? = nil,
        retain: Bool? = nil, createdBy: String? = nil, createdAtMillis: Int64? = nil
    ) {
        self.tenant = tenant
        self.id = id
        self.priority = priority
        self.permission = permission
        self.action = action
        self.topic = topic
        self.user = user
        self.clientID = clientID
        self.sources = sources
        self.qos = qos
        self.retain = retain
        self.createdBy = createdBy
        self.createdAtMillis = createdAtMillis
    }

    /// The meta key of the rule.
    public var key: String {
        Self.prefix + tenant + "/" + Self.paddedPriority(priority) + "-" + id
    }

    /// The key prefix of one tenant's rules.
    public static func prefix(tenant: String) -> String { prefix + tenant + "/" }

    static func paddedPriority(_ priority: Int) -> String {
        let digits = String(max(0, priority))
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// Checks every field; the error names the first problem.
    public func validate() throws(ACLRecordError) {
        guard Self.isValidName(tenant) else { throw .invalidTenant(tenant) }
        guard Self.isValidName(id) else { throw .invalidID(id) }
        guard (0...Self.maximumPriority).contains(priority) else { throw .invalidPriority(priority) }
        guard ACLTopicMatcher.isValidFilter(topic), !topic.hasPrefix("$share/") else { throw .invalidTopicFilter(topic, "not a valid MQTT topic filter") }
        for level in topic.split(separator: "/", omittingEmptySubsequences: false)
        where (level.contains("%u") || level.contains("%c")) && level != "%u" && level != "%c" {
            throw .invalidTopicFilter(topic, "%u and %c must each be a whole topic level")
        }
        if user != nil && clientID != nil { throw .conflictingSubjects }
        if let user, user.isEmpty { throw .emptySubject("user") }
        if let clientID, clientID.isEmpty { throw .emptySubject("client id") }
        for source in sources where IPNetwork(source) == nil { throw .invalidSource(source) }
        if let qos {
            guard !qos.isEmpty, qos.allSatisfy({ $0 <= 2 }) else { throw .invalidQoS(qos) }
        }
        if retain != nil && action == .subscribe { throw .retainOnSubscribe }
    }

    /// The engine's rule (after ``validate()``).
    public func rule() throws(ACLRecordError) -> ACLRule {
        try validate()
        let subject: ACLSubject = user.map { .user($0) } ?? clientID.map { .clientID($0) } ?? .any
        let retainCondition: ACLRetainCondition = retain.map { $0 ? .retained : .notRetained } ?? .any
        return ACLRule(
            priority: priority, permission: permission, subject: subject, sources: sources.compactMap { IPNetwork($0) },
            action: action, topicFilter: topic, qos: qos.map { Set($0) }, retain: retainCondition)
    }

    /// The stored JSON.
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? Array(encoder.encode(self))) ?? []
    }

    /// Decodes and validates a stored value.
    public init(decoding value: [UInt8]) throws(ACLRecordError) {
        do {
            self = try JSONDecoder().decode(ACLRecord.self, from: Data(value))
        } catch {
            throw .undecodable("\(error)")
        }
        try validate()
    }

    /// Letters, digits, `-`, `_` and `.`, 1…64 characters.
    static func isValidName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64
            && text.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
            }
    }
}

/// Why an ``ACLRecord`` is refused.
public enum ACLRecordError: Error, Equatable, CustomStringConvertible {
    case invalidTenant(String)
    case invalidID(String)
    case invalidPriority(Int)
    case invalidTopicFilter(String, String)
    case conflictingSubjects
    case emptySubject(String)
    case invalidSource(String)
    case invalidQoS([UInt8])
    case retainOnSubscribe
    case undecodable(String)

    public var description: String {
        switch self {
        case .invalidTenant(let tenant): "invalid tenant '\(tenant)': use 1-64 letters, digits, '-', '_' or '.'"
        case .invalidID(let id): "invalid rule id '\(id)': use 1-64 letters, digits, '-', '_' or '.'"
        case .invalidPriority(let priority): "invalid priority \(priority): must be 0...\(ACLRecord.maximumPriority)"
        case .invalidTopicFilter(let filter, let why): "invalid topic filter '\(filter)': \(why)"
        case .conflictingSubjects: "give at most one of --user and --client-id"
        case .emptySubject(let what): "the \(what) must not be empty"
        case .invalidSource(let source): "invalid source '\(source)': expected an IPv4/IPv6 address or CIDR such as 10.0.0.0/8"
        case .invalidQoS(let qos): "invalid QoS list \(qos): give one or more of 0, 1, 2"
        case .retainOnSubscribe: "a retain condition applies to publish rules only"
        case .undecodable(let why): "unreadable ACL record: \(why)"
        }
    }
}
