import NIOCore
import NIOEmbedded
import Testing
@testable import Shared

/// The client's connection handler driven through an `EmbeddedChannel` with virtual time.
@Suite("RPC client connection handler")
struct RPCClientConnectionHandlerTests {
    static func makeChannel(keepAlive: TimeAmount?) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(RPCClientConnectionHandler(logger: testLogger, metrics: RPCMetrics(role: "test"), keepAliveInterval: keepAlive))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    static func readFrame(_ channel: EmbeddedChannel) throws -> RPCFrame? {
        try OutboundFrameReader.next(channel)
    }

    static func bytes(_ frame: RPCFrame) -> ByteBuffer {
        var buffer = ByteBuffer()
        frame.encode(into: &buffer)
        return buffer
    }

    @Test("an idle connection is pinged; a pong keeps it open; silence closes it")
    func keepAlive() throws {
        let channel = try Self.makeChannel(keepAlive: .seconds(1))
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        let ping = try #require(try Self.readFrame(channel))
        #expect(ping.kind == .ping)
        try channel.writeInbound(Self.bytes(RPCFrame(kind: .pong, correlationID: ping.correlationID)))
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(channel.isActive, "a pong proves the peer is alive")
        #expect(try Self.readFrame(channel) == nil, "no ping right after traffic")

        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(try Self.readFrame(channel)?.kind == .ping)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive, "no answer within an interval closes the connection")
    }

    @Test("calls in flight fail with unavailable when the connection closes")
    func inFlightFailOnClose() throws {
        let channel = try Self.makeChannel(keepAlive: nil)
        let handler = try channel.pipeline.syncOperations.handler(type: RPCClientConnectionHandler.self)
        let call = Self.makeCall(channel)
        let id = try #require(handler.startUnary(call, timeoutMillis: 0))
        channel.embeddedEventLoop.run()
        let request = try #require(try Self.readFrame(channel))
        #expect(request.kind == .request)
        #expect(request.correlationID == id)
        _ = try? channel.close().wait()
        let response = try #require(call.promise).futureResult
        let error = #expect(throws: RPCError.self) { try response.wait() }
        #expect(error?.code == .unavailable)
    }

    static func makeCall(_ channel: EmbeddedChannel, payload: [UInt8] = []) -> RPCUnaryClientCall {
        RPCUnaryClientCall(
            eventLoop: channel.eventLoop,
            methodID: NodeAPI.ping.id,
            request: NodePing(payload: ByteBuffer(bytes: payload)).encodedBody(),
            deadline: nil,
            started: .now()
        )
    }

    @Test("responses complete their own calls, in any order; late and unknown answers are ignored")
    func responsesMatchCalls() throws {
        let channel = try Self.makeChannel(keepAlive: nil)
        let handler = try channel.pipeline.syncOperations.handler(type: RPCClientConnectionHandler.self)
        let calls = (0..<3).map { Self.makeCall(channel, payload: [UInt8($0)]) }
        let ids = try calls.map { try #require(handler.startUnary($0, timeoutMillis: 0)) }
        #expect(Set(ids).count == 3)
        #expect(handler.outstandingCalls == 3)
        for index in [2, 0, 1] {
            let body = NodePing(payload: ByteBuffer(bytes: [UInt8(index) + 100])).encodedBody()
            try channel.writeInbound(Self.bytes(RPCFrame(kind: .response, methodID: NodeAPI.ping.id, correlationID: ids[index], body: body)))
        }
        // An answer for an id nobody waits for (already answered, or never used) changes nothing.
        try channel.writeInbound(Self.bytes(RPCFrame(kind: .response, methodID: NodeAPI.ping.id, correlationID: ids[0], body: ByteBuffer())))
        try channel.writeInbound(Self.bytes(RPCFrame(kind: .response, methodID: NodeAPI.ping.id, correlationID: 999, body: ByteBuffer())))
        for (index, call) in calls.enumerated() {
            var body = try #require(call.promise).futureResult.wait()
            #expect(try NodePing(rpcBody: &body).payload == ByteBuffer(bytes: [UInt8(index) + 100]))
        }
        #expect(handler.outstandingCalls == 0)
        #expect(channel.isActive)
    }

    @Test("aborting a sent call fails it, forgets it and sends cancel with its id")
    func abortSendsCancel() throws {
        let channel = try Self.makeChannel(keepAlive: nil)
        let handler = try channel.pipeline.syncOperations.handler(type: RPCClientConnectionHandler.self)
        let call = Self.makeCall(channel)
        let id = try #require(handler.startUnary(call, timeoutMillis: 0))
        channel.embeddedEventLoop.run()
        #expect(try Self.readFrame(channel)?.kind == .request)
        call.abort(RPCError(.cancelled, "test"))
        channel.embeddedEventLoop.run()
        let cancel = try #require(try Self.readFrame(channel))
        #expect(cancel.kind == .cancel)
        #expect(cancel.correlationID == id)
        let response = try #require(call.promise).futureResult
        let error = #expect(throws: RPCError.self) { try response.wait() }
        #expect(error?.code == .cancelled)
        #expect(handler.outstandingCalls == 0)
        // The server's late answer is ignored.
        try channel.writeInbound(Self.bytes(RPCFrame(kind: .response, methodID: NodeAPI.ping.id, correlationID: id, body: ByteBuffer())))
        #expect(channel.isActive)
    }

    @Test("an error frame with a malformed body closes the connection")
    func malformedErrorBody() throws {
        let channel = try Self.makeChannel(keepAlive: nil)
        _ = try? channel.writeInbound(Self.bytes(RPCFrame(kind: .error, correlationID: 1, body: ByteBuffer(bytes: [0x00]))))
        #expect(!channel.isActive)
    }
}
