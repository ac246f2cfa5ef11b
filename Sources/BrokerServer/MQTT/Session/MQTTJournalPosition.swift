/// Where a message is stored in the journal: the index of its MQTT shard and its offset there.
public struct MQTTJournalPosition: Hashable, Sendable {
    /// The shard index (`mqtt-<shard>`).
    public var shard: Int
    /// The record's offset in the shard.
    public var offset: Int64

    /// A position.
    public init(shard: Int, offset: Int64) {
        self.shard = shard
        self.offset = offset
    }
}
