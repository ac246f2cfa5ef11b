/// A set of MQTT topic filters that answers "does any filter match this topic name?" in time
/// proportional to the topic's levels, not to the number of filters (a trie over topic levels).
///
/// Matching follows MQTT 5 §4.7: levels are separated by `/`; `+` matches exactly one level
/// (which may be empty); `#` as the last level matches the parent level and any number of
/// child levels; topic names starting with `$` are not matched by a filter whose first level
/// is a wildcard (`#`, `+/…`). Filters are matched literally otherwise (shared-subscription
/// prefixes such as `$share/group/` must be stripped by the caller).
///
/// ```swift
/// var filters = try TopicFilterSet(["sensors/+/temperature", "alerts/#"])
/// filters.matches("sensors/kitchen/temperature")   // true
/// filters.matches("$SYS/uptime")                   // false
/// ```
public struct TopicFilterSet: Sendable, Hashable, CustomStringConvertible {
    /// One trie node: the filters that continue with a literal level, with `+`, and whether a
    /// filter ends here or continues with `#`.
    struct Node: Sendable {
        var literal: [Substring: Int] = [:]
        var singleLevel: Int?
        var endsHere = false
        var multiLevel = false
    }

    /// The longest filter accepted, in UTF-8 bytes (an MQTT UTF-8 string).
    public static let maxFilterBytes = 65_535

    private(set) var nodes: [Node] = [Node()]
    /// The filters in the set.
    public private(set) var filters: Set<String> = []

    /// An empty set (matches nothing).
    public init() {}

    /// A set of `filters`; throws on the first invalid one.
    public init(_ filters: some Sequence<String>) throws(TopicFilterError) {
        for filter in filters { try self.insert(filter) }
    }

    /// How many filters the set holds.
    public var count: Int { filters.count }
    /// Whether the set holds no filter.
    public var isEmpty: Bool { filters.isEmpty }

    /// Whether `filter` (exactly as given) is in the set.
    public func contains(filter: String) -> Bool { filters.contains(filter) }

    public var description: String { "TopicFilterSet(\(filters.sorted()))" }

    /// Two sets are equal when they hold the same filters (whatever the insertion order).
    public static func == (lhs: TopicFilterSet, rhs: TopicFilterSet) -> Bool { lhs.filters == rhs.filters }

    public func hash(into hasher: inout Hasher) { hasher.combine(filters) }

    /// Checks that `filter` is a valid MQTT topic filter.
    public static func validate(_ filter: String) throws(TopicFilterError) {
        let bytes = filter.utf8.count
        guard bytes > 0 else { throw .empty }
        guard bytes <= maxFilterBytes else { throw .tooLong(bytes: bytes) }
        let levels = filter.split(separator: "/", omittingEmptySubsequences: false)
        for (index, level) in levels.enumerated() {
            if level.utf8.contains(0) { throw .containsNull }
            if level.contains("#") && (level != "#" || index != levels.count - 1) {
                throw .misplacedMultiLevelWildcard(filter: filter)
            }
            if level.contains("+") && level != "+" { throw .misplacedSingleLevelWildcard(filter: filter) }
        }
    }

    /// Adds a filter; returns whether it was new.
    @discardableResult
    public mutating func insert(_ filter: String) throws(TopicFilterError) -> Bool {
        try Self.validate(filter)
        guard filters.insert(filter).inserted else { return false }
        add(filter)
        return true
    }

    /// Removes a filter; returns whether it was present.
    @discardableResult
    public mutating func remove(_ filter: String) -> Bool {
        guard filters.remove(filter) != nil else { return false }
        // Rebuild: removals are rare next to matches, and a rebuilt trie has no dead nodes.
        nodes = [Node()]
        for remaining in filters { add(remaining) }
        return true
    }

    private mutating func add(_ filter: String) {
        var current = 0
        for level in filter.split(separator: "/", omittingEmptySubsequences: false) {
            if level == "#" {
                nodes[current].multiLevel = true
                return
            }
            if level == "+" {
                if let next = nodes[current].singleLevel {
                    current = next
                } else {
                    nodes.append(Node())
                    nodes[current].singleLevel = nodes.count - 1
                    current = nodes.count - 1
                }
            } else if let next = nodes[current].literal[level] {
                current = next
            } else {
                nodes.append(Node())
                nodes[current].literal[level] = nodes.count - 1
                current = nodes.count - 1
            }
        }
        nodes[current].endsHere = true
    }

    /// Whether any filter in the set matches the topic name `topic` (no allocation: levels are
    /// looked up as substrings of `topic`).
    public func matches(_ topic: String) -> Bool {
        guard !filters.isEmpty else { return false }
        return match(node: 0, topic: topic, level: topic.startIndex, dollarTopic: topic.utf8.first == UInt8(ascii: "$"))
    }

    /// Whether any filter matches a topic name given as UTF-8 bytes (a record key); bytes that
    /// are not valid UTF-8 match nothing (pass `buffer.readableBytesView` for a `ByteBuffer`).
    public func matches(utf8 bytes: some Collection<UInt8>) -> Bool {
        guard !filters.isEmpty else { return false }
        guard let topic = String(validating: bytes, as: UTF8.self) else { return false }
        return matches(topic)
    }

    /// Matches the levels of `topic` from `level` (the start of the next level, or `nil` once
    /// every level was consumed) against the trie from `node`.
    private func match(node: Int, topic: String, level: String.Index?, dollarTopic: Bool) -> Bool {
        let current = nodes[node]
        // Wildcards in the first level never match `$` topics (MQTT 5 §4.7.2).
        let wildcardsAllowed = !(level == topic.startIndex && dollarTopic)
        if current.multiLevel && wildcardsAllowed { return true }
        guard let level else { return current.endsHere }
        let end = topic.utf8[level...].firstIndex(of: UInt8(ascii: "/")) ?? topic.endIndex
        let next: String.Index? = end == topic.endIndex ? nil : topic.utf8.index(after: end)
        if let child = current.literal[topic[level..<end]],
            match(node: child, topic: topic, level: next, dollarTopic: dollarTopic)
        {
            return true
        }
        if wildcardsAllowed, let child = current.singleLevel,
            match(node: child, topic: topic, level: next, dollarTopic: dollarTopic)
        {
            return true
        }
        return false
    }
}
