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
        try sync.addHandler(ByteToMessageHandler(RPCFrameDecoder()))
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
        let once = RPCPromiseOnce(channel.eventLoop.makePromise(of: ByteBuffer.self))
        let id = try #require(handler.startUnary(methodID: NodeAPI.ping.id, body: ByteBuffer(), timeoutMillis: 0, once: once))
        channel.embeddedEventLoop.run()
        let request = try #require(try Self.readFrame(channel))
        #expect(request.kind == .request)
        #expect(request.correlationID == id)
        _ = try? channel.close().wait()
        let error = #expect(throws: RPCError.self) { try once.futureResult.wait() }
        #expect(error?.code == .unavailable)
    }

    @Test("an error frame with a malformed body closes the connection")
    func malformedErrorBody() throws {
        let channel = try Self.makeChannel(keepAlive: nil)
        _ = try? channel.writeInbound(Self.bytes(RPCFrame(kind: .error, correlationID: 1, body: ByteBuffer(bytes: [0x00]))))
        #expect(!channel.isActive)
    }
}
