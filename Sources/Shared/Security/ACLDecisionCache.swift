/// A small bounded cache of ACL decisions keyed by (tenant, client, action, topic, QoS, retain),
/// evicting the least recently used quarter when full.
///
/// Entries must be invalidated explicitly: `invalidate(tenant:clientID:)` when a client
/// disconnects or its identity changes, `invalidateAll()` whenever rules change.
public struct ACLDecisionCache: Sendable {
    struct Key: Hashable, Sendable {
        var tenant: String
        var clientID: String
        var action: ACLRequest.Action
        var topic: String
        var qos: UInt8
        var retain: Bool

        init(_ request: ACLRequest) {
            tenant = request.tenant
            clientID = request.clientID
            action = request.action
            topic = request.topic
            qos = request.qos
            retain = request.action == .publish ? request.retain : false
        }
    }

    private struct Entry: Sendable {
        var decision: ACLDecision
        var lastUsed: UInt64
    }

    /// Most entries held.
    public let capacity: Int
    private var entries: [Key: Entry] = [:]
    private var tick: UInt64 = 0

    /// Creates a cache holding at most `capacity` decisions (at least 1).
    public init(capacity: Int = 1024) {
        self.capacity = max(1, capacity)
    }

    /// Number of cached decisions.
    public var count: Int { entries.count }

    /// The cached decision for `request`, refreshing its recency.
    public mutating func decision(for request: ACLRequest) -> ACLDecision? {
        let key = Key(request)
        guard var entry = entries[key] else { return nil }
        tick &+= 1
        entry.lastUsed = tick
        entries[key] = entry
        return entry.decision
    }

    /// Stores `decision` for `request`, evicting the least recently used quarter when full.
    public mutating func store(_ decision: ACLDecision, for request: ACLRequest) {
        let key = Key(request)
        if entries[key] == nil, entries.count >= capacity { evict() }
        tick &+= 1
        entries[key] = Entry(decision: decision, lastUsed: tick)
    }

    /// Drops every decision of one client.
    public mutating func invalidate(tenant: String, clientID: String) {
        entries = entries.filter { !($0.key.tenant == tenant && $0.key.clientID == clientID) }
    }

    /// Drops every decision of one tenant (its rules changed).
    public mutating func invalidate(tenant: String) {
        entries = entries.filter { $0.key.tenant != tenant }
    }

    /// Drops everything.
    public mutating func invalidateAll() {
        entries.removeAll(keepingCapacity: true)
    }

    private mutating func evict() {
        let dropCount = max(1, capacity / 4)
        let oldest = entries.sorted { $0.value.lastUsed < $1.value.lastUsed }.prefix(dropCount)
        for (key, _) in oldest { entries[key] = nil }
    }
}
