/// Whether a rule allows or denies.
public enum ACLPermission: String, Sendable, Hashable, Codable {
    /// Grant the request.
    case allow
    /// Refuse the request.
    case deny
}

/// What a rule applies to.
public enum ACLAction: String, Sendable, Hashable, Codable {
    /// PUBLISH only.
    case publish
    /// SUBSCRIBE only.
    case subscribe
    /// Both.
    case all

    func covers(_ action: ACLRequest.Action) -> Bool {
        switch (self, action) {
        case (.all, _), (.publish, .publish), (.subscribe, .subscribe): true
        default: false
        }
    }
}

/// Who a rule applies to.
public enum ACLSubject: Sendable, Hashable {
    /// Requests authenticated as this user name.
    case user(String)
    /// Requests from this client identifier.
    case clientID(String)
    /// Every request.
    case any
    /// Requests whose connection was authenticated as a superuser.
    case superuser

    func matches(_ request: ACLRequest) -> Bool {
        switch self {
        case .user(let name): request.username == name
        case .clientID(let id): request.clientID == id
        case .any: true
        case .superuser: request.isSuperuser
        }
    }
}

/// A condition on the PUBLISH retain flag.
public enum ACLRetainCondition: Sendable, Hashable {
    /// Either value.
    case any
    /// Only retained messages.
    case retained
    /// Only non-retained messages.
    case notRetained

    func matches(_ retain: Bool) -> Bool {
        switch self {
        case .any: true
        case .retained: retain
        case .notRetained: !retain
        }
    }
}

/// One access-control rule of a tenant. Rules are evaluated in ascending `priority`; the first
/// rule whose every condition matches decides.
public struct ACLRule: Sendable, Hashable {
    /// Evaluation order: lower runs first. Ties keep insertion order.
    public var priority: Int
    /// Allow or deny.
    public var permission: ACLPermission
    /// Who the rule applies to.
    public var subject: ACLSubject
    /// Source networks (any of them); empty means any address.
    public var sources: [IPNetwork]
    /// The action covered.
    public var action: ACLAction
    /// Topic filter with optional `%u` (user name) and `%c` (client id) placeholders, each
    /// standing for a whole topic level.
    public var topicFilter: String
    /// QoS levels covered; `nil` means any.
    public var qos: Set<UInt8>?
    /// Retain condition (publish only; subscribe requests ignore it).
    public var retain: ACLRetainCondition

    /// Creates a rule.
    public init(
        priority: Int, permission: ACLPermission, subject: ACLSubject = .any, sources: [IPNetwork] = [],
        action: ACLAction, topicFilter: String, qos: Set<UInt8>? = nil, retain: ACLRetainCondition = .any
    ) {
        self.priority = priority
        self.permission = permission
        self.subject = subject
        self.sources = sources
        self.action = action
        self.topicFilter = topicFilter
        self.qos = qos
        self.retain = retain
    }

    /// Whether every condition of this rule holds for `request` (tenant already matched).
    func matches(_ request: ACLRequest) -> Bool {
        guard action.covers(request.action), subject.matches(request) else { return false }
        if !sources.isEmpty {
            guard let peer = request.peerAddress, sources.contains(where: { $0.contains(peer) }) else { return false }
        }
        if let qos, !qos.contains(request.qos) { return false }
        if request.action == .publish, !retain.matches(request.retain) { return false }
        guard let filter = expandedFilter(for: request) else { return false }
        switch request.action {
        case .publish: return ACLTopicMatcher.matches(filter: filter, topic: request.topic)
        case .subscribe:
            guard let requested = ACLTopicMatcher.underlyingFilter(request.topic) else { return false }
            return ACLTopicMatcher.covers(filter: filter, requested: requested)
        }
    }

    /// The filter with placeholders replaced, or `nil` when a placeholder cannot be filled
    /// safely: the value is missing, empty, or contains `/`, `+`, `#` (which would widen the
    /// rule beyond one level).
    func expandedFilter(for request: ACLRequest) -> String? {
        guard topicFilter.contains("%") else { return topicFilter }
        var levels: [String] = []
        for level in topicFilter.split(separator: "/", omittingEmptySubsequences: false) {
            let value: String?
            switch level {
            case "%u": value = request.username
            case "%c": value = request.clientID
            default:
                levels.append(String(level))
                continue
            }
            guard let value, !value.isEmpty, !value.contains(where: { $0 == "/" || $0 == "+" || $0 == "#" }) else {
                return nil
            }
            levels.append(value)
        }
        return levels.joined(separator: "/")
    }
}
