import NIOCore
import NIOEmbedded
import Testing
@testable import Shared

/// The server's connection handler driven byte-by-byte through an `EmbeddedChannel`.
@Suite("RPC server connection handler")
struct RPCServerConnectionHandlerTests {
    static func makeChannel(probe: TestProbe = TestProbe()) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(RPCServerConnectionHandler(
            router: TestAPI.router(probe: probe),
            logger: testLogger,
            metrics: RPCMetrics(role: "test"),
            maxFrameBytes: 1024
        ))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    static func bytes(_ frame: RPCFrame) -> ByteBuffer {
        var buffer = ByteBuffer()
        frame.encode(into: &buffer)
        return buffer
    }

    static func readFrame(_ channel: EmbeddedChannel) throws -> RPCFrame? {
        try OutboundFrameReader.next(channel)
    }

    @Test("an unknown method id is answered with an unknownMethod error frame; the connection stays up")
    func unknownMethod() throws {
        let channel = try Self.makeChannel()
        try channel.writeInbound(Self.bytes(RPCFrame(kind: .request, methodID: 0xDEAD_BEEF, correlationID: 42)))
        let answer = try #require(try Self.readFrame(channel))
        #expect(answer.kind == .error)
        #expect(answer.correlationID == 42)
        var body = answer.body
        #expect(try RPCError(rpcBody: &body).code == .unknownMethod)
        #expect(channel.isActive)

        // A known method on the same connection still works.
        let ping = NodePing(payload: ByteBuffer(bytes: [9, 8, 7]))
        try channel.writeInbound(Self.bytes(RPCFrame(kind: .request, methodID: NodeAPI.ping.id, correlationID: 43, body: ping.encodedBody())))
        channel.embeddedEventLoop.run()
        let response = try #require(try Self.readFrame(channel))
        #expect(response.kind == .response)
        #expect(response.correlationID == 43)
        var responseBody = response.body
        #expect(try NodePing(rpcBody: &responseBody) == ping)
        _ = try? channel.finish()
    }

    @Test("an undecodable request body is answered with invalidArgument")
    func invalidRequestBody() throws {
        let channel = try Self.makeChannel()
        try channel.writeInbound(Self.bytes(RPCFrame(kind: .request, methodID: NodeAPI.ping.id, correlationID: 5, body: ByteBuffer(bytes: [0xFF]))))
        channel.embeddedEventLoop.run()
        let answer = try #require(try Self.readFrame(channel))
        var body = answer.body
        #expect(answer.kind == .error)
        #expect(try RPCError(rpcBody: &body).code == .invalidArgument)
        #expect(channel.isActive)
        _ = try? channel.finish()
    }

    @Test("at the deadline the handler is cancelled and nothing is sent for the call")
    func deadlineDropsResponse() throws {
        let probe = TestProbe()
        let channel = try Self.makeChannel(probe: probe)
        try channel.writeInbound(Self.bytes(RPCFrame(kind: .request, methodID: TestAPI.never.id, correlationID: 8, timeoutMillis: 250)))
        #expect(probe.started == 1)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(249))
        #expect(probe.cancellations.isEmpty)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(probe.cancellations == [.deadlineExceeded])
        channel.embeddedEventLoop.run()
        // The handler failed its future when cancelled; that late answer is dropped, not sent.
        #expect(try Self.readFrame(channel) == nil)
        #expect(channel.isActive)
        _ = try? channel.finish()
    }

    @Test("synchronous handlers answer within the read batch, in order, with errors in place")
    func synchronousAnswersInOneBatch() throws {
        let channel = try Self.makeChannel()
        var batch = ByteBuffer()
        for (id, value) in [(1, 5), (2, 1), (3, 7), (4, 2)] as [(UInt64, UInt64)] {
            var body = ByteBuffer()
            TestNumber(value).encode(into: &body)
            RPCFrame(kind: .request, methodID: TestAPI.increment.id, correlationID: id, body: body).encode(into: &batch)
        }
        try channel.writeInbound(batch)
        // All four answers went out in one write at the end of the read batch, without running
        // the event loop (no future or scheduled task per call).
        var written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "one write for the whole batch")
        var decoder = RPCFrameDecoder()
        var answers: [RPCFrame] = []
        while let frame = try decoder.decode(buffer: &written) {
            answers.append(frame)
        }
        #expect(answers.map(\.correlationID) == [1, 2, 3, 4])
        #expect(answers.map(\.kind) == [.response, .error, .response, .error])
        var first = answers[0].body
        #expect(try TestNumber(rpcBody: &first) == TestNumber(6))
        var third = answers[2].body
        #expect(try TestNumber(rpcBody: &third) == TestNumber(8))
        var rejected = answers[1].body
        #expect(try RPCError(rpcBody: &rejected).code == .failedPrecondition)
        var plain = answers[3].body
        #expect(try RPCError(rpcBody: &plain).code == .internal)
        #expect(channel.isActive)
        _ = try? channel.finish()
    }

    @Test("a request reusing the id of a call still in flight closes the connection, synchronous or not")
    func correlationIDReuse() throws {
        let channel = try Self.makeChannel()
        try channel.writeInbound(Self.bytes(RPCFrame(kind: .request, methodID: TestAPI.never.id, correlationID: 9)))
        var body = ByteBuffer()
        TestNumber(5).encode(into: &body)
        // A synchronous call on another id is fine and does not disturb the tracked one.
        try channel.writeInbound(Self.bytes(RPCFrame(kind: .request, methodID: TestAPI.increment.id, correlationID: 10, body: body)))
        #expect(try Self.readFrame(channel)?.correlationID == 10)
        #expect(channel.isActive)
        _ = try? channel.writeInbound(Self.bytes(RPCFrame(kind: .request, methodID: TestAPI.increment.id, correlationID: 9, body: body)))
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test("a cancel frame cancels the handler and suppresses its answer")
    func cancelFrame() throws {
        let probe = TestProbe()
        let channel = try Self.makeChannel(probe: probe)
        try channel.writeInbound(Self.bytes(RPCFrame(kind: .request, methodID: TestAPI.never.id, correlationID: 3)))
        try channel.writeInbound(Self.bytes(RPCFrame(kind: .cancel, correlationID: 3)))
        channel.embeddedEventLoop.run()
        #expect(probe.cancellations == [.cancelled])
        #expect(try Self.readFrame(channel) == nil)
        _ = try? channel.finish()
    }

    @Test("ping is answered with pong carrying the same bytes")
    func pingPong() throws {
        let channel = try Self.makeChannel()
        try channel.writeInbound(Self.bytes(RPCFrame(kind: .ping, correlationID: 77, body: ByteBuffer(bytes: [1, 2]))))
        let pong = try #require(try Self.readFrame(channel))
        #expect(pong == RPCFrame(kind: .pong, correlationID: 77, body: ByteBuffer(bytes: [1, 2])))
        _ = try? channel.finish()
    }

    @Test("a malformed frame closes the connection", arguments: [
        [UInt8]([0x00, 0x01, 0x02, 0x03]),  // bad magic
        [0x54, 0x42, 0x09],  // bad version
    ])
    func malformedCloses(bytes: [UInt8]) throws {
        let channel = try Self.makeChannel()
        _ = try? channel.writeInbound(ByteBuffer(bytes: bytes))
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test("a windowUpdate without a 4-byte credit closes the connection")
    func malformedWindowUpdate() throws {
        let channel = try Self.makeChannel()
        _ = try? channel.writeInbound(Self.bytes(RPCFrame(kind: .windowUpdate, correlationID: 1, body: ByteBuffer(bytes: [1]))))
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test("an oversized frame closes the connection before its body arrives")
    func oversizedCloses() throws {
        let channel = try Self.makeChannel()
        var header = Self.bytes(RPCFrame(kind: .request, methodID: NodeAPI.ping.id, correlationID: 1))
        header.setInteger(UInt32(1 << 30), at: 22)
        _ = try? channel.writeInbound(header)
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }
}
