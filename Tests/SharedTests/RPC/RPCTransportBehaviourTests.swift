import NIOCore
import Testing
@testable import Shared

/// The behaviour every ``RPCTransport`` promises, run once per transport.
@Suite("RPC transport behaviour")
struct RPCTransportBehaviourTests {
    @Test("unary calls round-trip typed requests and responses", arguments: TransportKind.allCases)
    func unaryCalls(kind: TransportKind) async throws {
        try await RPCTestHarness.with(kind) { harness in
            var payload = ByteBuffer()
            payload.writeString("hello tributary")
            let echo = try await harness.transport.call(NodeAPI.ping, NodePing(payload: payload))
            #expect(echo == NodePing(payload: payload))

            let status = try await harness.transport.call(NodeAPI.status, RPCEmpty())
            #expect(status.nodeID == "node-1")
            #expect(status.roles == ["meta", "journal"])
            #expect(status.version == "0.1.0-test")

            let doubled = try await harness.transport.callFuture(TestAPI.double, TestNumber(21)).get()
            #expect(doubled == TestNumber(42))
        }
    }

    @Test("synchronous handlers answer, see the deadline, and fail with typed errors", arguments: TransportKind.allCases)
    func synchronousHandlers(kind: TransportKind) async throws {
        try await RPCTestHarness.with(kind) { harness in
            #expect(try await harness.transport.call(TestAPI.increment, TestNumber(41)) == TestNumber(42))
            let left = try await harness.transport.call(TestAPI.increment, TestNumber(0), options: .timeout(.seconds(60)))
            #expect(left.value > 50_000 && left.value <= 60_000, "the handler sees the caller's deadline")
            #expect(try await harness.transport.call(TestAPI.increment, TestNumber(0)) == TestNumber(0), "no deadline")
            let rejected = await expectRPCError { try await harness.transport.call(TestAPI.increment, TestNumber(1)) }
            #expect(rejected?.code == .failedPrecondition)
            #expect(rejected?.message == "one is not allowed")
            let plain = await expectRPCError { try await harness.transport.call(TestAPI.increment, TestNumber(2)) }
            #expect(plain?.code == .internal)
            // A request the handler cannot decode is rejected before it runs.
            let garbled = RPCMethod<RPCEmpty, TestNumber>(id: TestAPI.increment.id, name: TestAPI.increment.name)
            let invalid = await expectRPCError { try await harness.transport.call(garbled, RPCEmpty()) }
            #expect(invalid?.code == .invalidArgument)
            // A response the caller cannot decode fails its typed future with `internal`.
            let mistyped = RPCMethod<TestNumber, NodeStatus>(id: TestAPI.increment.id, name: TestAPI.increment.name)
            let malformed = await expectRPCError { try await harness.transport.callFuture(mistyped, TestNumber(41)).get() }
            #expect(malformed?.code == .internal)
            #expect(try await harness.transport.callFuture(TestAPI.increment, TestNumber(9)).get() == TestNumber(10))
            // Pipelined with a call that never answers: every synchronous answer still arrives.
            let stuck = harness.transport.unary(
                methodID: TestAPI.never.id,
                methodName: TestAPI.never.name,
                request: RPCEmpty().encodedBody(),
                options: RPCCallOptions()
            )
            let answers = try await withThrowingTaskGroup(of: UInt64.self) { group in
                for value in 10..<110 as Range<UInt64> {
                    group.addTask { try await harness.transport.call(TestAPI.increment, TestNumber(value)).value - value }
                }
                return try await group.reduce(into: [UInt64]()) { $0.append($1) }
            }
            #expect(answers == Array(repeating: 1, count: 100))
            stuck.cancel()
            let cancelled = await expectRPCError { try await stuck.response.get() }
            #expect(cancelled?.code == .cancelled)
        }
    }

    @Test("application errors arrive typed, with detail", arguments: TransportKind.allCases)
    func applicationErrors(kind: TransportKind) async throws {
        try await RPCTestHarness.with(kind) { harness in
            let error = await expectRPCError { try await harness.transport.call(TestAPI.notLeader, RPCEmpty()) }
            #expect(error?.code == .notLeader)
            #expect(error?.detail.map { String(buffer: $0) } == "10.0.0.7:7001")
        }
    }

    @Test("unknown method ids fail with unknownMethod and the transport stays usable", arguments: TransportKind.allCases)
    func unknownMethod(kind: TransportKind) async throws {
        try await RPCTestHarness.with(kind) { harness in
            let unknown = RPCMethod<RPCEmpty, RPCEmpty>(id: 0x7777_7777, name: "test.unknown")
            let error = await expectRPCError { try await harness.transport.call(unknown, RPCEmpty()) }
            #expect(error?.code == .unknownMethod)
            let echo = try await harness.transport.call(NodeAPI.ping, NodePing())
            #expect(echo == NodePing())
        }
    }

    @Test("a server stream delivers every item in order", arguments: TransportKind.allCases)
    func streamDeliversAll(kind: TransportKind) async throws {
        try await RPCTestHarness.with(kind) { harness in
            var received: [UInt64] = []
            for try await item in harness.transport.stream(TestAPI.count, TestNumber(500), options: RPCCallOptions(streamWindow: 7)) {
                received.append(item.value)
            }
            #expect(received == Array(0..<500))
        }
    }

    @Test("stream back-pressure: sent-but-unconsumed never exceeds the window", arguments: TransportKind.allCases)
    func streamBackPressure(kind: TransportKind) async throws {
        try await RPCTestHarness.with(kind) { harness in
            let probe = harness.probe
            let window = 16
            let total = 10_000
            var consumed = 0
            var maxOutstanding = 0
            var iterator = harness.transport.stream(TestAPI.count, TestNumber(UInt64(total)), options: RPCCallOptions(streamWindow: window))
                .makeAsyncIterator()
            while let item = try await iterator.next() {
                #expect(item.value == UInt64(consumed))
                consumed += 1
                let outstanding = probe.sent - consumed
                maxOutstanding = max(maxOutstanding, outstanding)
                #expect(outstanding <= window, "server ran \(outstanding) items ahead with a window of \(window)")
                if consumed % 2_500 == 1 {
                    // Read slowly: stop consuming until the server has filled the window and is blocked.
                    let consumedSoFar = consumed
                    try await waitUntil("server to fill the window") { probe.sent - consumedSoFar >= window / 2 }
                    let blockedAt = probe.sent
                    #expect(blockedAt - consumed <= window)
                }
            }
            #expect(consumed == total)
            #expect(probe.sent == total)
            #expect(maxOutstanding >= window / 2, "the server should have run ahead of the slow reader")
        }
    }

    @Test("a deadline fails the call with deadlineExceeded and cancels the handler", arguments: TransportKind.allCases)
    func deadlineExpires(kind: TransportKind) async throws {
        try await RPCTestHarness.with(kind) { harness in
            _ = try await harness.transport.call(NodeAPI.ping, NodePing())  // warm the connection
            let started = ContinuousClock.now
            let error = await expectRPCError {
                try await harness.transport.call(TestAPI.never, RPCEmpty(), options: .timeout(.seconds(1)))
            }
            #expect(error?.code == .deadlineExceeded)
            #expect(ContinuousClock.now - started >= .milliseconds(990))
            let probe = harness.probe
            try await waitUntil("handler to observe cancellation") { !probe.cancellations.isEmpty }
            #expect(probe.started == 1)
            let reason = probe.cancellations.first
            #expect(reason == .deadlineExceeded || reason == .cancelled)
        }
    }

    @Test("cancelling the calling task cancels the call on the server", arguments: TransportKind.allCases)
    func taskCancellation(kind: TransportKind) async throws {
        try await RPCTestHarness.with(kind) { harness in
            let probe = harness.probe
            let transport = harness.transport
            let task = Task { try await transport.call(TestAPI.never, RPCEmpty()) }
            try await waitUntil("handler to start") { probe.started == 1 }
            task.cancel()
            let error = await expectRPCError { try await task.value }
            #expect(error?.code == .cancelled)
            try await waitUntil("handler to observe cancellation") { probe.cancellations == [.cancelled] }
        }
    }

    @Test("cancelling a stream stops the server's handler", arguments: TransportKind.allCases)
    func streamCancellation(kind: TransportKind) async throws {
        try await RPCTestHarness.with(kind) { harness in
            let probe = harness.probe
            let stream = harness.transport.stream(TestAPI.forever, RPCEmpty(), options: RPCCallOptions(streamWindow: 4))
            var iterator = stream.makeAsyncIterator()
            for expected in 0..<10 as Range<UInt64> {
                let item = try await iterator.next()
                #expect(item?.value == expected)
            }
            stream.cancel()
            try await waitUntil("handler to observe cancellation") { probe.cancellations == [.cancelled] }
            let error = await expectRPCError { try await iterator.next() }
            #expect(error?.code == .cancelled)
            // The server stops producing: nothing beyond the window is ever sent.
            #expect(probe.sent <= 10 + 4)
        }
    }

    @Test("dropping a stream before its end cancels it on the server", arguments: TransportKind.allCases)
    func streamDropped(kind: TransportKind) async throws {
        try await RPCTestHarness.with(kind) { harness in
            let probe = harness.probe
            do {
                let stream = harness.transport.stream(TestAPI.forever, RPCEmpty(), options: RPCCallOptions(streamWindow: 2))
                var iterator = stream.makeAsyncIterator()
                _ = try await iterator.next()
            }
            try await waitUntil("handler to observe cancellation") { probe.cancellations == [.cancelled] }
        }
    }

    @Test("a stream with a deadline ends with deadlineExceeded and cancels the handler", arguments: TransportKind.allCases)
    func streamDeadline(kind: TransportKind) async throws {
        try await RPCTestHarness.with(kind) { harness in
            let probe = harness.probe
            _ = try await harness.transport.call(NodeAPI.ping, NodePing())  // warm the connection
            let stream = harness.transport.stream(TestAPI.forever, RPCEmpty(), options: RPCCallOptions(timeout: .seconds(1), streamWindow: 2))
            // Nobody reads: the server blocks on credit until the deadline cancels it.
            try await waitUntil("handler to observe the deadline") { !probe.cancellations.isEmpty }
            #expect(probe.sent <= 2)
            var iterator = stream.makeAsyncIterator()
            let error = await expectRPCError {
                while try await iterator.next() != nil {}
            }
            #expect(error?.code == .deadlineExceeded)
        }
    }
}
