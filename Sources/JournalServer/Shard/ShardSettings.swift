/// The settings a shard is created with; stored next to its segments and fixed for its life
/// (a second `create` with the same name must ask for the same settings).
public struct ShardSettings: Sendable, Hashable, CustomStringConvertible {
    /// How many replicas each segment should have (recorded for meta; this node stores one).
    public var replicationFactor: Int
    /// When an append is durable enough to be acknowledged.
    public var durability: DurabilityPolicy
    /// Roll to a new segment beyond this size.
    public var maxSegmentBytes: Int
    /// Roll a segment this old (ms), or `nil` for never.
    public var maxSegmentAgeMilliseconds: Int64?
    /// Delete sealed segments older than this (ms), or `nil` to keep them.
    public var retentionMilliseconds: Int64?
    /// Delete the oldest sealed segments while the shard stays at least this big, or `nil`.
    public var retentionBytes: Int?

    /// Group commit with no minimum interval: every acknowledged append is fsynced; an fsync
    /// starts as soon as data waits and none is running, shared by everything that arrived.
    public static let defaultDurability = DurabilityPolicy.interval(milliseconds: 0)

    /// Creates settings; the defaults are 1 replica, group-commit fsync, 256 MiB segments rolled
    /// after a day, kept for 7 days.
    public init(
        replicationFactor: Int = 1,
        durability: DurabilityPolicy = ShardSettings.defaultDurability,
        maxSegmentBytes: Int = 256 << 20,
        maxSegmentAgeMilliseconds: Int64? = 24 * 3600 * 1000,
        retentionMilliseconds: Int64? = 7 * 24 * 3600 * 1000,
        retentionBytes: Int? = nil
    ) {
        self.replicationFactor = replicationFactor
        self.durability = durability
        self.maxSegmentBytes = maxSegmentBytes
        self.maxSegmentAgeMilliseconds = maxSegmentAgeMilliseconds
        self.retentionMilliseconds = retentionMilliseconds
        self.retentionBytes = retentionBytes
    }

    /// The shard log's configuration for these settings.
    public var logConfiguration: SegmentLogConfiguration {
        SegmentLogConfiguration(
            maxSegmentBytes: maxSegmentBytes,
            maxSegmentAgeMilliseconds: maxSegmentAgeMilliseconds,
            retentionMilliseconds: retentionMilliseconds,
            retentionBytes: retentionBytes,
            durability: durability)
    }

    public var description: String {
        "replicas=\(replicationFactor) durability=\(durability) maxSegmentBytes=\(maxSegmentBytes)"
            + " maxSegmentAgeMs=\(maxSegmentAgeMilliseconds.map(String.init) ?? "none")"
            + " retentionMs=\(retentionMilliseconds.map(String.init) ?? "none")"
            + " retentionBytes=\(retentionBytes.map(String.init) ?? "none")"
    }

    /// Checks the values are usable; returns a reason if not.
    public func validationFailure() -> String? {
        if replicationFactor < 1 || replicationFactor > 16 { return "replication factor must be 1...16" }
        if maxSegmentBytes < 4096 || maxSegmentBytes > Int(Int32.max) { return "segment size must be 4096...\(Int32.max) bytes" }
        if let age = maxSegmentAgeMilliseconds, age <= 0 { return "segment age must be positive" }
        if let retention = retentionMilliseconds, retention <= 0 { return "retention time must be positive" }
        if let retention = retentionBytes, retention <= 0 { return "retention size must be positive" }
        if case .interval(let milliseconds) = durability, milliseconds < 0 || milliseconds > 60_000 {
            return "group commit interval must be 0...60000 ms"
        }
        return nil
    }
}
