/// Per-tenant access-control rules with first-match-wins evaluation in priority order.
///
/// Rules belong to exactly one tenant; a request is only ever evaluated against the rules of its
/// own tenant. When no rule matches, `defaultPermission` applies (deny unless configured).
/// Value type: build it, then share the immutable value (copy-on-write) with event loops.
public struct ACLEngine: Sendable {
    /// Applied when no rule matches.
    public var defaultPermission: ACLPermission
    private var rulesByTenant: [String: [ACLRule]] = [:]

    /// Creates an engine with no rules.
    public init(defaultPermission: ACLPermission = .deny) {
        self.defaultPermission = defaultPermission
    }

    /// Adds `rule` to `tenant`, keeping the tenant's rules ordered by priority (stable for ties).
    public mutating func add(_ rule: ACLRule, tenant: String) {
        var rules = rulesByTenant[tenant, default: []]
        let index = rules.firstIndex { $0.priority > rule.priority } ?? rules.endIndex
        rules.insert(rule, at: index)
        rulesByTenant[tenant] = rules
    }

    /// Replaces all rules of `tenant`.
    public mutating func setRules(_ rules: [ACLRule], tenant: String) {
        rulesByTenant[tenant] = nil
        for rule in rules { add(rule, tenant: tenant) }
    }

    /// The rules of `tenant` in evaluation order.
    public func rules(tenant: String) -> [ACLRule] {
        rulesByTenant[tenant] ?? []
    }

    /// Decides `request`: the first matching rule of its tenant, else the default.
    public func authorize(_ request: ACLRequest) -> ACLDecision {
        let valid: Bool
        switch request.action {
        case .publish:
            valid = !request.topic.isEmpty && !request.topic.contains(where: { $0 == "+" || $0 == "#" || $0 == "\0" })
        case .subscribe:
            valid = ACLTopicMatcher.underlyingFilter(request.topic).map(ACLTopicMatcher.isValidFilter) ?? false
        }
        guard valid, request.qos <= 2 else { return ACLDecision(permission: .deny, reason: .invalidTopic) }
        for rule in rulesByTenant[request.tenant] ?? [] where rule.matches(request) {
            return ACLDecision(permission: rule.permission, reason: .rule(priority: rule.priority))
        }
        return ACLDecision(permission: defaultPermission, reason: .noMatchingRule)
    }
}
