import Logging
import NIOConcurrencyHelpers
import NIOCore
@testable import Shared

/// A number, as a test request or stream item.
struct TestNumber: RPCMessage, Equatable {
    var value: UInt64

    init(_ value: UInt64) { self.value = value }

    init(rpcBody buffer: inout ByteBuffer) throws {
        self.value = try buffer.readVarint()
    }

    func encode(into buffer: inout ByteBuffer) {
        buffer.writeVarint(self.value)
    }
}

/// What the test handlers observed, for assertions from the test body.
final class TestProbe: Sendable {
    private struct State {
        var started = 0
        var sent = 0
        var cancellations: [RPCError.Code] = []
    }

    private let state = NIOLockedValueBox(State())

    var started: Int { self.state.withLockedValue { $0.started } }
    var sent: Int { self.state.withLockedValue { $0.sent } }
    var cancellations: [RPCError.Code] { self.state.withLockedValue { $0.cancellations } }

    func recordStart() { self.state.withLockedValue { $0.started += 1 } }
    func recordSent() { self.state.withLockedValue { $0.sent += 1 } }
    func recordCancel(_ reason: RPCError) { self.state.withLockedValue { $0.cancellations.append(reason.code) } }
}

/// Methods served in the behavioural tests, besides ``NodeAPI``.
enum TestAPI {
    /// Never answers; records the cancellation it observes.
    static let never = RPCMethod<RPCEmpty, RPCEmpty>(id: 0xFFFF_0001, name: "test.never")
    /// Streams `0..<n` (async handler, awaiting credit for each item).
    static let count = RPCStreamMethod<TestNumber, TestNumber>(id: 0xFFFF_0002, name: "test.count")
    /// Streams forever until cancelled (future-based handler).
    static let forever = RPCStreamMethod<RPCEmpty, TestNumber>(id: 0xFFFF_0003, name: "test.forever")
    /// Fails with `notLeader`, the leader's address in the detail.
    static let notLeader = RPCMethod<RPCEmpty, RPCEmpty>(id: 0xFFFF_0004, name: "test.notLeader")
    /// Doubles the number in an `async` handler.
    static let double = RPCMethod<TestNumber, TestNumber>(id: 0xFFFF_0005, name: "test.double")
    /// A synchronous handler: answers the number plus one, or — for the number 0 — the
    /// milliseconds left until the call's deadline (0 without one); fails for the numbers
    /// 1 (`failedPrecondition`) and 2 (a non-RPC error, sent as `internal`).
    static let increment = RPCMethod<TestNumber, TestNumber>(id: 0xFFFF_0006, name: "test.increment")

    /// Not an ``RPCError``: reaches callers as `internal`.
    struct PlainError: Error {}

    static func router(probe: TestProbe) -> RPCRouter {
        var router = RPCRouter()
        NodeService(nodeID: "node-1", roles: ["meta", "journal"], version: "0.1.0-test").register(into: &router)
        router.register(never) { _, context in
            probe.recordStart()
            let promise = context.eventLoop.makePromise(of: RPCEmpty.self)
            context.onCancel { reason in
                probe.recordCancel(reason)
                promise.fail(reason)
            }
            return promise.futureResult
        }
        router.registerAsync(count) { request, writer, context in
            probe.recordStart()
            context.onCancel { reason in probe.recordCancel(reason) }
            for index in 0..<request.value {
                try await writer.write(TestNumber(index))
                probe.recordSent()
            }
        }
        router.register(forever) { _, writer, context in
            probe.recordStart()
            context.onCancel { reason in probe.recordCancel(reason) }
            let done = context.eventLoop.makePromise(of: Void.self)
            @Sendable func next(_ index: UInt64) {
                writer.send(TestNumber(index)).whenComplete { result in
                    switch result {
                    case .success:
                        probe.recordSent()
                        next(index + 1)
                    case .failure(let error):
                        done.fail(error)
                    }
                }
            }
            next(0)
            return done.futureResult
        }
        router.register(notLeader) { _, context in
            var detail = ByteBuffer()
            detail.writeString("10.0.0.7:7001")
            return context.eventLoop.makeFailedFuture(RPCError(.notLeader, "not the leader", detail: detail))
        }
        router.registerAsync(double) { request, _ in
            TestNumber(request.value * 2)
        }
        router.registerSync(increment) { request, context in
            switch request.value {
            case 0:
                let left = context.deadline.map { ($0 - context.eventLoop.now).nanoseconds / 1_000_000 } ?? 0
                return TestNumber(UInt64(max(0, left)))
            case 1: throw RPCError(.failedPrecondition, "one is not allowed")
            case 2: throw PlainError()
            default: return TestNumber(request.value + 1)
            }
        }
        return router
    }
}

/// Polls `condition` until it holds or `timeout` passes (then fails the test).
func waitUntil(
    _ what: String,
    timeout: Duration = .seconds(15),
    _ condition: @Sendable () -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while !condition() {
        guard clock.now < deadline else {
            throw RPCError(.deadlineExceeded, "timed out waiting for \(what)")
        }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// Asserts that `body` throws an ``RPCError`` and returns it.
func expectRPCError<T>(_ body: () async throws -> T) async -> RPCError? {
    do {
        _ = try await body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(.internal, "unexpected error type: \(error)")
    }
}

var testLogger: Logger {
    var logger = Logger(label: "rpc-test")
    logger.logLevel = .critical
    return logger
}
