/// A leader's replication state for one follower (etcd's `Progress`).
///
/// - `probe`: the leader does not know where the follower's log matches; it sends one
///   AppendEntries at a time and waits for the answer (or a heartbeat response).
/// - `replicate`: the follower is matching; the leader streams entries optimistically, at most
///   `maxInflightMessages` unacknowledged messages at once.
/// - `snapshot`: an InstallSnapshot is in flight; no entries are sent until it is acknowledged
///   or, if lost, an election timeout passes.
public struct RaftProgress: Sendable, Equatable {
    /// The replication state.
    public enum State: Sendable, Equatable {
        case probe, replicate, snapshot
    }

    /// The highest index known to match the leader's log.
    public internal(set) var match: UInt64
    /// The next index to send.
    public internal(set) var next: UInt64
    /// The replication state.
    public internal(set) var state: State
    /// In `probe`: a message was sent and no answer has arrived yet.
    var probeSent: Bool
    /// In `snapshot`: the index of the snapshot being sent.
    var pendingSnapshot: UInt64
    /// Ticks spent in the `snapshot` state.
    var snapshotTicks: Int
    /// The follower was heard from since the last check-quorum round.
    var recentActive: Bool
    /// Last indices of the unacknowledged messages in flight, oldest first.
    var inflights: [UInt64]

    init(next: UInt64) {
        self.match = 0
        self.next = next
        self.state = .probe
        self.probeSent = false
        self.pendingSnapshot = 0
        self.snapshotTicks = 0
        self.recentActive = false
        self.inflights = []
    }

    /// Whether the leader must hold further AppendEntries.
    func isPaused(maxInflight: Int) -> Bool {
        switch state {
        case .probe: probeSent
        case .replicate: inflights.count >= maxInflight
        case .snapshot: true
        }
    }

    mutating func becomeProbe() {
        if state == .snapshot {
            next = max(match + 1, pendingSnapshot + 1)
        } else {
            next = match + 1
        }
        state = .probe
        probeSent = false
        pendingSnapshot = 0
        inflights = []
    }

    mutating func becomeReplicate() {
        state = .replicate
        next = match + 1
        probeSent = false
        pendingSnapshot = 0
        inflights = []
    }

    mutating func becomeSnapshot(_ index: UInt64) {
        state = .snapshot
        pendingSnapshot = index
        snapshotTicks = 0
        probeSent = false
        inflights = []
    }

    /// Records an acknowledgement up to `index`; returns whether `match` advanced.
    mutating func maybeUpdate(_ index: UInt64) -> Bool {
        var updated = false
        if match < index {
            match = index
            updated = true
            probeSent = false
        }
        next = max(next, index + 1)
        return updated
    }

    /// Handles a rejection of the message whose prevIndex was `rejected`, with the follower's
    /// hint; returns `false` if the rejection is stale.
    mutating func maybeDecrease(rejected: UInt64, hint: UInt64) -> Bool {
        if state == .replicate {
            if rejected <= match { return false }
            next = match + 1
            return true
        }
        if next == 0 || next - 1 != rejected { return false }
        next = max(min(rejected, hint + 1), match + 1, 1)
        probeSent = false
        return true
    }

    /// Records a message sent with entries up to `last`.
    mutating func sent(last: UInt64, entryCount: Int) {
        switch state {
        case .replicate:
            if entryCount > 0 {
                next = last + 1
                inflights.append(last)
            }
        case .probe:
            probeSent = true
        case .snapshot:
            break
        }
    }

    /// Frees in-flight slots for messages acknowledged up to `index`.
    mutating func freeInflights(upTo index: UInt64) {
        inflights.removeAll { $0 <= index }
    }
}
