import NIOCore
import NIOHTTP1
import NIOPosix

/// One keep-alive HTTP/1.1 client connection for benchmarks: one request at a time, its
/// completion a future on the connection's event loop (so the next request can be sent from it
/// without a hop).
final class BenchHTTPConnection: Sendable {
    /// The response to one request.
    struct Response: Sendable {
        var status: HTTPResponseStatus
        var body: ByteBuffer
    }

    private let channel: any Channel
    private let handler: NIOLoopBound<Handler>
    private let host: String

    private init(channel: any Channel, handler: NIOLoopBound<Handler>, host: String) {
        self.channel = channel
        self.handler = handler
        self.host = host
    }

    /// Connects to `host:port`.
    static func connect(host: String, port: Int, group: any EventLoopGroup) async throws -> BenchHTTPConnection {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(Handler())
                }
            }
            .connect(host: host, port: port).get()
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: Handler.self), eventLoop: channel.eventLoop)
        }.get()
        return BenchHTTPConnection(channel: channel, handler: handler, host: "\(host):\(port)")
    }

    /// The connection's event loop (where responses complete).
    var eventLoop: any EventLoop { channel.eventLoop }

    /// Sends `POST path` with a JSON body; the future completes with the whole response.
    func post(_ path: String, json: String) -> EventLoopFuture<Response> {
        if channel.eventLoop.inEventLoop {
            return handler.value.send(path: path, host: host, json: json, on: channel.eventLoop)
        }
        return channel.eventLoop.flatSubmit {
            self.handler.value.send(path: path, host: self.host, json: json, on: self.channel.eventLoop)
        }
    }

    /// Closes the connection.
    func close() async {
        try? await channel.close()
    }

    /// Writes requests and assembles responses; one request outstanding.
    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart
        typealias OutboundOut = HTTPClientRequestPart

        private var context: ChannelHandlerContext?
        private var pending: EventLoopPromise<Response>?
        private var status: HTTPResponseStatus = .ok
        private var body = ByteBuffer()

        func handlerAdded(context: ChannelHandlerContext) {
            self.context = context
        }

        func send(path: String, host: String, json: String, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
            guard let context, pending == nil else {
                return eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
            }
            let promise = eventLoop.makePromise(of: Response.self)
            pending = promise
            var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
            head.headers.add(name: "Host", value: host)
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(json.utf8.count))
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: json)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return promise.futureResult
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                status = head.status
                body.clear()
            case .body(var part):
                body.writeBuffer(&part)
            case .end:
                let promise = pending
                pending = nil
                promise?.succeed(Response(status: status, body: body))
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.context = nil
            fail(ChannelError.ioOnClosedChannel)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            fail(error)
            context.close(promise: nil)
        }

        private func fail(_ error: any Error) {
            let promise = pending
            pending = nil
            promise?.fail(error)
        }
    }
}
