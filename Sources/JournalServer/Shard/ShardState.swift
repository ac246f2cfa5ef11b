/// The state of a shard on this node.
public enum ShardState: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Serving appends, reads and tails.
    case active = 1
    /// Some segment failed its integrity checks; its records are not served.
    case corrupt = 2

    public var description: String {
        switch self {
        case .active: "active"
        case .corrupt: "corrupt"
        }
    }
}
