extension ACLRule {
    /// The rule a token's `acl` entry stands for. The entry applies to the token's bearer
    /// only, so the subject is `.any` and the rule belongs in a per-connection engine
    /// (`ACLEngine(tokenACL:tenant:)`), never in the shared tenant engine.
    public init(tokenEntry entry: JWTACLEntry, priority: Int) {
        let retain: ACLRetainCondition
        switch entry.retain {
        case .none: retain = .any
        case .some(true): retain = .retained
        case .some(false): retain = .notRetained
        }
        self.init(
            priority: priority, permission: entry.permission, subject: .any, action: entry.action,
            topicFilter: entry.topic, qos: entry.qos, retain: retain)
    }
}

extension ACLEngine {
    /// A per-connection engine holding the `acl` claim of a verified token for `tenant`, in
    /// claim order (the first entry has the highest precedence).
    public init(tokenACL entries: [JWTACLEntry], tenant: String, defaultPermission: ACLPermission = .deny) {
        self.init(defaultPermission: defaultPermission)
        setRules(entries.enumerated().map { ACLRule(tokenEntry: $1, priority: $0) }, tenant: tenant)
    }
}
