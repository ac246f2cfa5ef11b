import NIOCore

extension MetaNode {
    /// Calls `observer` on the node's loop with whether this node is the Raft leader and the
    /// current term: once at once, then whenever it becomes or stops being the leader (also when
    /// it shuts down or stops after a storage failure). Any number of observers may register,
    /// before or after ``start()``. The ``MetaController`` uses it.
    public func observeRole(_ observer: @escaping @Sendable (_ isLeader: Bool, _ term: UInt64) -> Void) {
        eventLoop.execute {
            self.roleObservers.append(observer)
            observer(!self.stopped && self.wasLeader, self.raft.term)
        }
    }

    /// Tells the role observers this node no longer leads (when it stops while leading).
    func stepDownObservers() {
        guard wasLeader else { return }
        wasLeader = false
        for observer in roleObservers { observer(false, raft.term) }
    }
}
