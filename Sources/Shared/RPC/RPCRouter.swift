import NIOCore

/// The table of methods a server (or ``InProcessTransport``) serves.
///
/// Build it once at start-up by registering every service's handlers, then hand it to the
/// transport. Dispatch is bytes-in/bytes-out, so the socket server and the in-process transport
/// share it. The core handlers are future-based and run on the call's event loop (no `Task` per
/// call); the `…Sync` variant is for handlers that answer at once (no future per call at all);
/// the `…Async` variants wrap an `async` function for convenience.
public struct RPCRouter: Sendable {
    /// One registered method, in untyped form.
    enum Handler: Sendable {
        case unary(name: String, @Sendable (ByteBuffer, RPCCallContext) -> EventLoopFuture<ByteBuffer>)
        /// Decodes the request, answers at once and encodes the response into the given buffer
        /// (the transport's outbound buffer); throws to answer with an error.
        case unarySync(name: String, @Sendable (ByteBuffer, RPCCallContext, inout ByteBuffer) throws -> Void)
        case stream(name: String, @Sendable (ByteBuffer, RPCCallContext, RPCStreamSink) -> EventLoopFuture<Void>)

        var name: String {
            switch self {
            case .unary(let name, _), .unarySync(let name, _), .stream(let name, _): name
            }
        }
    }

    private(set) var handlers: [UInt32: Handler] = [:]

    /// An empty router.
    public init() {}

    /// The ids of every registered method.
    public var methodIDs: [UInt32] { Array(self.handlers.keys).sorted() }

    func handler(for methodID: UInt32) -> Handler? {
        self.handlers[methodID]
    }

    private mutating func add(_ id: UInt32, _ handler: Handler) {
        precondition(self.handlers[id] == nil, "RPC method id \(id) registered twice (\(handler.name))")
        self.handlers[id] = handler
    }

    /// Registers a future-based unary handler; it should return a future on `context.eventLoop`.
    public mutating func register<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        handler: @escaping @Sendable (Request, RPCCallContext) -> EventLoopFuture<Response>
    ) {
        let name = method.name
        self.add(method.id, .unary(name: name) { body, context in
            let request: Request
            do {
                request = try Request.decode(rpcBody: body, what: "\(name) request")
            } catch {
                return context.eventLoop.makeFailedFuture(error)
            }
            return handler(request, context).map { $0.encodedBody() }
        })
    }

    /// Registers a synchronous unary handler: it runs on the connection's event loop as soon as
    /// the request is decoded, and its return value (or thrown error) is the answer. No promise,
    /// future or call-tracking entry is created per call, and the response is encoded straight
    /// into the connection's outbound buffer. Only for handlers that answer at once without
    /// blocking (e.g. reading in-memory state); anything that waits must use ``register(_:handler:)``.
    /// Thrown errors that are not ``RPCError`` are sent as `internal`. The call ends before
    /// anything could cancel it, so on the socket server `context.cancellation` is a shared token
    /// that is never cancelled (its `onCancel` callbacks never run).
    public mutating func registerSync<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        handler: @escaping @Sendable (Request, RPCCallContext) throws -> Response
    ) {
        let name = method.name
        self.add(method.id, .unarySync(name: name) { body, context, out in
            let request = try Request.decode(rpcBody: body, what: "\(name) request")
            try handler(request, context).encode(into: &out)
        })
    }

    /// Registers an `async` unary handler (runs in a `Task`, cancelled with the call).
    public mutating func registerAsync<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        handler: @escaping @Sendable (Request, RPCCallContext) async throws -> Response
    ) {
        self.register(method) { request, context in
            let promise = context.eventLoop.makePromise(of: Response.self)
            let task = Task {
                do {
                    promise.succeed(try await handler(request, context))
                } catch {
                    promise.fail(error)
                }
            }
            context.onCancel { _ in task.cancel() }
            return promise.futureResult
        }
    }

    /// Registers a future-based server-streaming handler: send items with `writer`, complete the
    /// future to end the stream (or fail it to send an error).
    public mutating func register<Request, Item>(
        _ method: RPCStreamMethod<Request, Item>,
        handler: @escaping @Sendable (Request, RPCStreamWriter<Item>, RPCCallContext) -> EventLoopFuture<Void>
    ) {
        let name = method.name
        self.add(method.id, .stream(name: name) { body, context, sink in
            let request: Request
            do {
                request = try Request.decode(rpcBody: body, what: "\(name) request")
            } catch {
                return context.eventLoop.makeFailedFuture(error)
            }
            return handler(request, RPCStreamWriter(sink: sink, cancellation: context.cancellation), context)
        })
    }

    /// Registers an `async` server-streaming handler (runs in a `Task`, cancelled with the call).
    public mutating func registerAsync<Request, Item>(
        _ method: RPCStreamMethod<Request, Item>,
        handler: @escaping @Sendable (Request, RPCStreamWriter<Item>, RPCCallContext) async throws -> Void
    ) {
        self.register(method) { request, writer, context in
            let promise = context.eventLoop.makePromise(of: Void.self)
            let task = Task {
                do {
                    try await handler(request, writer, context)
                    promise.succeed()
                } catch {
                    promise.fail(error)
                }
            }
            context.onCancel { _ in task.cancel() }
            return promise.futureResult
        }
    }
}
