/// A change of the live node set, as ``ClusterNodes`` reports it to controller tasks.
public enum NodeEvent: Equatable, Sendable {
    /// A node registered (or re-registered: a new lease, address or start time).
    case joined(NodeRecord)
    /// A node's registration disappeared: its lease expired or was revoked.
    case died(NodeRecord)

    /// The node the event is about.
    public var record: NodeRecord {
        switch self {
        case .joined(let record), .died(let record): record
        }
    }
}
