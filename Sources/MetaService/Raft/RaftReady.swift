/// A batch of work a ``RaftNode`` hands to its driver. See ``RaftNode`` for the driver contract
/// (the order in which these must be made durable, sent and applied).
public struct RaftReady: Sendable, Equatable {
    /// The hard state to persist, or `nil` when it has not changed since the previous ready.
    public var hardState: RaftHardState?
    /// A snapshot received from the leader, to persist (replacing the whole stored log) and to
    /// install into the state machine.
    public var snapshot: RaftSnapshot?
    /// Entries to append to stable storage; storage first discards every stored entry with an
    /// index at or above `entries.first.index`.
    public var entries: [RaftEntry]
    /// Committed entries to apply to the state machine, in order (after ``snapshot``, if any).
    public var committedEntries: [RaftEntry]
    /// Messages to send once everything above is durable.
    public var messages: [RaftMessage]
    /// Answers to ``RaftNode/readIndex(context:)`` requests.
    public var readStates: [RaftReadState]

    /// Creates a ready value.
    public init(
        hardState: RaftHardState? = nil,
        snapshot: RaftSnapshot? = nil,
        entries: [RaftEntry] = [],
        committedEntries: [RaftEntry] = [],
        messages: [RaftMessage] = [],
        readStates: [RaftReadState] = []
    ) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
        self.committedEntries = committedEntries
        self.messages = messages
        self.readStates = readStates
    }
}

/// The answer to a linearizable read: once the local state machine has applied `index`, a read
/// served from it reflects every write committed before the read was requested.
public struct RaftReadState: Sendable, Equatable {
    /// The commit index the read must wait for.
    public var index: UInt64
    /// The caller's context from ``RaftNode/readIndex(context:)``.
    public var context: [UInt8]

    /// Creates a read state.
    public init(index: UInt64, context: [UInt8]) {
        self.index = index
        self.context = context
    }
}
