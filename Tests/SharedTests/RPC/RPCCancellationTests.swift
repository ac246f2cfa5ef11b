import NIOConcurrencyHelpers
import Testing

@testable import Shared

@Suite("RPC cancellation token")
struct RPCCancellationTests {
    @Test func aTokenCancelsOnceAndRunsEveryCallback() {
        let token = RPCCancellation()
        let seen = NIOLockedValueBox<[RPCError.Code]>([])
        token.onCancel { reason in seen.withLockedValue { $0.append(reason.code) } }
        #expect(!token.isCancelled)
        #expect(token.cancel(RPCError(.deadlineExceeded)))
        #expect(!token.cancel(RPCError(.cancelled)), "only the first reason counts")
        token.onCancel { reason in seen.withLockedValue { $0.append(reason.code) } }  // runs at once
        #expect(seen.withLockedValue { $0 } == [.deadlineExceeded, .deadlineExceeded])
        #expect(token.reason?.code == .deadlineExceeded)
    }

    @Test func theUncancellableTokenIgnoresCancelAndKeepsNoCallbacks() {
        let token = RPCCancellation.uncancellable
        let ran = NIOLockedValueBox(false)
        token.onCancel { _ in ran.withLockedValue { $0 = true } }
        #expect(!token.cancel(RPCError(.cancelled)))
        #expect(!token.isCancelled)
        #expect(token.reason == nil)
        #expect(!ran.withLockedValue { $0 })
    }
}
