import DequeModule
import NIOCore

/// Expires calls whose deadline passed using one timer per connection (or client slot) instead
/// of one scheduled task per call: scheduling and cancelling a NIO task for every call cost more
/// than the rest of a small call. Entries are kept sorted by deadline (calls with the usual equal
/// timeouts arrive in deadline order, so adding is an append); finished calls are dropped lazily
/// from the front. Deadlines are on the event loop's clock. Confined to its event loop.
final class RPCDeadlineQueue {
    private struct Entry {
        let deadline: NIODeadline
        let isPending: () -> Bool
        let expire: () -> Void
    }

    private let eventLoop: any EventLoop
    private var entries: Deque<Entry> = []
    private var timer: Scheduled<Void>?
    private var armedFor: NIODeadline?

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Calls `expire` at `deadline` unless `isPending` says the call finished first.
    func add(deadline: NIODeadline, isPending: @escaping () -> Bool, expire: @escaping () -> Void) {
        self.eventLoop.preconditionInEventLoop()
        let entry = Entry(deadline: deadline, isPending: isPending, expire: expire)
        if let last = self.entries.last, last.deadline > deadline {
            self.entries.insert(entry, at: self.entries.partitionPoint { $0.deadline > deadline })
        } else {
            self.entries.append(entry)
        }
        self.dropFinished()
        self.arm()
    }

    /// Expires every pending call now (the connection is going away) and stops the timer.
    func cancelAll() {
        self.timer?.cancel()
        self.timer = nil
        self.armedFor = nil
        self.entries.removeAll()
    }

    /// The number of entries held (finished ones not yet dropped included); for tests.
    var count: Int { self.entries.count }

    private func dropFinished() {
        while let first = self.entries.first, !first.isPending() {
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
            if first.isPending() { first.expire() }
        }
        self.dropFinished()
        self.arm()
    }
}
