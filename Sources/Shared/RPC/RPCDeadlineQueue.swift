import DequeModule
import NIOCore

/// Expires calls whose deadline passed using one timer per connection (or client slot) instead
/// of one scheduled task per call: scheduling and cancelling a NIO task for every call cost more
/// than the rest of a small call. Entries are a deadline and a `Key` naming the call; the two
/// callbacks are given once, so adding a call allocates nothing (beyond the deque's amortised
/// growth). Entries are kept sorted by deadline (calls with the usual equal timeouts arrive in
/// deadline order, so adding is an append); finished calls are dropped lazily from the front.
/// Deadlines are on the event loop's clock. Confined to its event loop.
final class RPCDeadlineQueue<Key> {
    private struct Entry {
        let deadline: NIODeadline
        let key: Key
    }

    private let eventLoop: any EventLoop
    private let isPending: (Key) -> Bool
    private let expire: (Key) -> Void
    private var entries: Deque<Entry> = []
    private var timer: Scheduled<Void>?
    private var armedFor: NIODeadline?

    /// `isPending(key)` tells whether the call is still waiting; `expire(key)` is called for a
    /// pending call whose deadline passed.
    init(eventLoop: any EventLoop, isPending: @escaping (Key) -> Bool, expire: @escaping (Key) -> Void) {
        self.eventLoop = eventLoop
        self.isPending = isPending
        self.expire = expire
    }

    /// Expires the call `key` at `deadline` unless it finished first.
    func add(deadline: NIODeadline, key: Key) {
        self.eventLoop.preconditionInEventLoop()
        let entry = Entry(deadline: deadline, key: key)
        if let last = self.entries.last, last.deadline > deadline {
            self.entries.insert(entry, at: self.entries.partitionPoint { $0.deadline > deadline })
        } else {
            self.entries.append(entry)
        }
        self.dropFinished()
        self.arm()
    }

    /// Forgets every entry (the connection is going away) and stops the timer.
    func cancelAll() {
        self.timer?.cancel()
        self.timer = nil
        self.armedFor = nil
        self.entries.removeAll()
    }

    /// The number of entries held (finished ones not yet dropped included); for tests.
    var count: Int { self.entries.count }

    private func dropFinished() {
        while let first = self.entries.first, !self.isPending(first.key) {
            self.entries.removeFirst()
        }
    }

    private func arm() {
        guard let first = self.entries.first else { return }
        if let armedFor = self.armedFor, armedFor <= first.deadline { return }
        self.timer?.cancel()
        self.armedFor = first.deadline
        self.timer = self.eventLoop.assumeIsolated().scheduleTask(deadline: first.deadline) {
            self.fire()
        }
    }

    private func fire() {
        self.timer = nil
        self.armedFor = nil
        let now = self.eventLoop.now
        while let first = self.entries.first, first.deadline <= now {
            self.entries.removeFirst()
            if self.isPending(first.key) { self.expire(first.key) }
        }
        self.dropFinished()
        self.arm()
    }
}
