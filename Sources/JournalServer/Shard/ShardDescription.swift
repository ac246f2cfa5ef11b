/// What a shard looks like on this node right now.
public struct ShardDescription: Sendable, Hashable {
    /// One segment file of the shard.
    public struct Segment: Sendable, Hashable {
        /// The offset of the segment's first record.
        public var baseOffset: Int64
        /// Bytes of log data in the segment file.
        public var sizeInBytes: Int
        /// Creates a segment description.
        public init(baseOffset: Int64, sizeInBytes: Int) {
            self.baseOffset = baseOffset
            self.sizeInBytes = sizeInBytes
        }
    }

    /// The shard's name.
    public var name: String
    /// The settings it was created with.
    public var settings: ShardSettings
    /// The first offset still stored.
    public var startOffset: Int64
    /// One past the last durable (acknowledged) offset: what readers and tails can see.
    public var endOffset: Int64
    /// Whether the shard serves reads and appends.
    public var state: ShardState
    /// The segments, oldest first.
    public var segments: [Segment]
    /// Base offsets of segments found corrupt.
    public var corruptSegments: [Int64]
    /// The shard's record in the meta key space, when the node records shards there and it
    /// could be read.
    public var catalog: ShardMetadata?

    /// Creates a description.
    public init(
        name: String, settings: ShardSettings, startOffset: Int64, endOffset: Int64, state: ShardState,
        segments: [Segment], corruptSegments: [Int64] = [], catalog: ShardMetadata? = nil
    ) {
        self.name = name
        self.settings = settings
        self.startOffset = startOffset
        self.endOffset = endOffset
        self.state = state
        self.segments = segments
        self.corruptSegments = corruptSegments
        self.catalog = catalog
    }
}
