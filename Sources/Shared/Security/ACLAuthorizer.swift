/// An `ACLEngine` with an `ACLDecisionCache` in front, for one event loop or connection group.
///
/// The cache is keyed by client id, so the caller must invalidate a client when its connection
/// (user name, peer address, superuser flag) changes, and `updateEngine` clears the cache.
public struct ACLAuthorizer: Sendable {
    /// The rules.
    public private(set) var engine: ACLEngine
    /// The decision cache.
    public private(set) var cache: ACLDecisionCache

    /// Creates an authorizer.
    public init(engine: ACLEngine, cacheCapacity: Int = 1024) {
        self.engine = engine
        self.cache = ACLDecisionCache(capacity: cacheCapacity)
    }

    /// Decides `request`, answering from the cache when possible.
    public mutating func authorize(_ request: ACLRequest) -> ACLDecision {
        if let cached = cache.decision(for: request) { return cached }
        let decision = engine.authorize(request)
        cache.store(decision, for: request)
        return decision
    }

    /// Installs new rules and drops every cached decision.
    public mutating func updateEngine(_ engine: ACLEngine) {
        self.engine = engine
        cache.invalidateAll()
    }

    /// Forgets the cached decisions of one client (call on disconnect or re-authentication).
    public mutating func invalidate(tenant: String, clientID: String) {
        cache.invalidate(tenant: tenant, clientID: clientID)
    }
}
