import Shared

/// One connection's view of the ``MQTTAccessControl``: its identity, its own ACL decision cache
/// (reloaded when the rules' generation moves), its PUBLISH rate bucket. Lives in the
/// connection handler, on its event loop.
struct MQTTConnectionAccess {
    let control: MQTTAccessControl
    private(set) var tenant: String
    private(set) var username: String?
    let clientID: String
    let peer: IPAddress?
    /// Super users bypass every ACL rule (set by authentication).
    private(set) var isSuperuser: Bool
    private var authorizer: ACLAuthorizer
    private var generation: UInt64
    /// Whether the connection's tenant has no rules (then the default decides, uncached).
    private var noRules: Bool
    /// Rules from the connection's token (a JWT `acl` claim), consulted before the tenant's.
    private var tokenRules: ACLEngine?
    private var messages: TokenBucket?

    init(
        control: MQTTAccessControl, tenant: String = "default", username: String?, isSuperuser: Bool = false,
        clientID: String, peer: IPAddress?, now: UInt64
    ) {
        self.control = control
        self.tenant = tenant
        self.isSuperuser = isSuperuser
        self.username = username
        self.clientID = clientID
        self.peer = peer
        let (engine, generation) = control.currentRules()
        self.authorizer = ACLAuthorizer(engine: engine, cacheCapacity: control.configuration.aclCacheSize)
        self.generation = generation
        self.noRules = engine.rules(tenant: tenant).isEmpty
        let rate = control.configuration.messageRate
        if rate > 0 {
            let burst = control.configuration.messageBurst > 0 ? control.configuration.messageBurst : rate
            messages = TokenBucket(rate: Double(rate), burst: Double(burst), now: now)
        }
    }

    /// Whether the ACL allows this publish or subscribe.
    mutating func allows(_ action: ACLRequest.Action, topic: String, qos: UInt8, retain: Bool = false) -> Bool {
        if isSuperuser { return true }
        if control.generation != generation {
            let (engine, current) = control.currentRules()
            authorizer.updateEngine(engine)
            generation = current
            noRules = engine.rules(tenant: tenant).isEmpty
        }
        let request = ACLRequest(
            tenant: tenant, username: username, clientID: clientID, isSuperuser: isSuperuser, peerAddress: peer,
            action: action, topic: topic, qos: qos, retain: retain)
        if let tokenRules {
            let decision = tokenRules.authorize(request)
            if decision.reason != .noMatchingRule { return decision.isAllowed }
        }
        // The session has already refused invalid topics and filters.
        if noRules { return control.configuration.noMatch == .allow }
        return authorizer.authorize(request).isAllowed
    }

    /// The connection authenticated again (MQTT 5 re-authentication) as this identity: cached
    /// decisions are dropped and the token rules replaced.
    mutating func reidentify(tenant: String, username: String?, isSuperuser: Bool, tokenRules: [JWTACLEntry]) {
        self.tenant = tenant
        self.username = username
        self.isSuperuser = isSuperuser
        let (engine, current) = control.currentRules()
        authorizer.updateEngine(engine)
        generation = current
        noRules = engine.rules(tenant: tenant).isEmpty
        setTokenRules(tokenRules)
    }

    /// Installs the rules of the connection's token (its `acl` claim, first entry first); they
    /// decide before the tenant's rules, which apply when no token rule matches.
    mutating func setTokenRules(_ entries: [JWTACLEntry]) {
        tokenRules = entries.isEmpty ? nil : ACLEngine(tokenACL: entries, tenant: tenant)
    }

    /// Whether one more PUBLISH fits the client's message rate.
    mutating func admitPublish(now: UInt64) -> Bool {
        guard messages != nil else { return true }
        return messages?.take(now: now) ?? true
    }
}
