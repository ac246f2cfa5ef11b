/// A point-in-time image of the state machine that replaces the log up to ``index``.
public struct RaftSnapshot: Sendable, Equatable {
    /// The last log index the snapshot covers.
    public var index: UInt64
    /// The term of the entry at ``index``.
    public var term: UInt64
    /// The membership as of ``index``.
    public var configuration: RaftConfiguration
    /// The application's serialized state machine.
    public var data: [UInt8]

    /// Creates a snapshot.
    public init(index: UInt64, term: UInt64, configuration: RaftConfiguration, data: [UInt8]) {
        self.index = index
        self.term = term
        self.configuration = configuration
        self.data = data
    }

    /// The empty snapshot at index 0 (no log compacted yet).
    public static let empty = RaftSnapshot(index: 0, term: 0, configuration: RaftConfiguration(), data: [])
}
