import NIOCore
import NIOEmbedded
import Testing

@testable import Shared

@Suite("RPC deadline queue")
struct RPCDeadlineQueueTests {
    final class Calls {
        var pending: Set<Int> = []
        var expired: [Int] = []
    }

    @Test func expiresOnlyPendingCallsInDeadlineOrderWithOneTimer() {
        let loop = EmbeddedEventLoop()
        let calls = Calls()
        let queue = RPCDeadlineQueue<Int>(eventLoop: loop, isPending: { calls.pending.contains($0) }) { id in
            calls.pending.remove(id)
            calls.expired.append(id)
        }
        // Deadlines out of order: 30, 10, 20, 20 ms; call 2 finishes before its deadline.
        for (id, ms) in [(1, 30), (2, 10), (3, 20), (4, 20)] {
            calls.pending.insert(id)
            queue.add(deadline: loop.now + .milliseconds(Int64(ms)), key: id)
        }
        calls.pending.remove(2)
        loop.advanceTime(by: .milliseconds(15))
        #expect(calls.expired.isEmpty)
        loop.advanceTime(by: .milliseconds(5))
        #expect(calls.expired == [3, 4])
        loop.advanceTime(by: .milliseconds(10))
        #expect(calls.expired == [3, 4, 1])
        #expect(queue.count == 0)
    }

    @Test func finishedCallsAtTheFrontAreDroppedWithoutWaitingForTheirDeadline() {
        let loop = EmbeddedEventLoop()
        let calls = Calls()
        let queue = RPCDeadlineQueue<Int>(eventLoop: loop, isPending: { calls.pending.contains($0) }) { id in
            calls.expired.append(id)
        }
        for id in 0..<1000 {
            calls.pending.insert(id)
            queue.add(deadline: loop.now + .seconds(30), key: id)
            calls.pending.remove(id)  // answered before the next call starts
        }
        #expect(queue.count <= 1, "memory stays bounded by the calls in flight")
        loop.advanceTime(by: .seconds(31))
        #expect(calls.expired.isEmpty)
    }
}
