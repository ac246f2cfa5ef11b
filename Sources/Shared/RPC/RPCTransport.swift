import NIOCore

/// Anything that can carry RPC calls: ``RPCClient`` over sockets, ``InProcessTransport`` in one
/// process. Both give the same semantics (deadlines, cancellation, unknown methods, stream credit).
///
/// Callers normally use the typed extensions: ``call(_:_:options:)``, ``callFuture(_:_:options:)``
/// and ``stream(_:_:options:)``.
public protocol RPCTransport: Sendable {
    /// Starts an untyped unary call.
    func unary(methodID: UInt32, methodName: String, request: ByteBuffer, options: RPCCallOptions) -> RPCRawUnaryCall

    /// Starts an untyped server-streaming call.
    func serverStream(methodID: UInt32, methodName: String, request: ByteBuffer, options: RPCCallOptions) -> RPCRawResponseStream

    /// Starts a unary call whose response is decoded into `Response`; the future fails with
    /// ``RPCError``. Transports that can decode as the response arrives complete the returned
    /// future directly (one future per call); the default maps ``unary(methodID:methodName:request:options:)``.
    func unaryDecoding<Response: RPCMessage>(
        methodID: UInt32,
        methodName: String,
        request: ByteBuffer,
        options: RPCCallOptions,
        as responseType: Response.Type
    ) -> EventLoopFuture<Response>
}

extension RPCTransport {
    /// Calls a unary method and waits for its response. Cancelling the task cancels the call.
    /// Throws ``RPCError``.
    @inlinable
    public func call<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ request: Request,
        options: RPCCallOptions = RPCCallOptions()
    ) async throws -> Response {
        let call = self.unary(methodID: method.id, methodName: method.name, request: request.encodedBody(), options: options)
        let body = try await withTaskCancellationHandler {
            try await call.response.get()
        } onCancel: {
            call.cancel()
        }
        return try Self.decodeResponse(body, method.name)
    }

    /// Calls a unary method; the future fails with ``RPCError``.
    @inlinable
    public func callFuture<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ request: Request,
        options: RPCCallOptions = RPCCallOptions()
    ) -> EventLoopFuture<Response> {
        self.unaryDecoding(methodID: method.id, methodName: method.name, request: request.encodedBody(), options: options, as: Response.self)
    }

    /// The default: the raw call's future, mapped through the decoder.
    public func unaryDecoding<Response: RPCMessage>(
        methodID: UInt32,
        methodName: String,
        request: ByteBuffer,
        options: RPCCallOptions,
        as responseType: Response.Type
    ) -> EventLoopFuture<Response> {
        let call = self.unary(methodID: methodID, methodName: methodName, request: request, options: options)
        return call.response.flatMapThrowing { body in try Self.decodeResponse(body, methodName) }
    }

    /// Calls a server-streaming method; iterate the result to receive items.
    public func stream<Request, Item>(
        _ method: RPCStreamMethod<Request, Item>,
        _ request: Request,
        options: RPCCallOptions = RPCCallOptions()
    ) -> RPCResponseStream<Item> {
        RPCResponseStream(raw: self.serverStream(
            methodID: method.id,
            methodName: method.name,
            request: request.encodedBody(),
            options: options
        ))
    }

    @inlinable
    static func decodeResponse<Response: RPCMessage>(_ body: ByteBuffer, _ name: String) throws(RPCError) -> Response {
        do throws(RPCError) {
            return try Response.decode(rpcBody: body, what: "\(name) response")
        } catch {
            throw RPCError(.internal, "malformed response from server: \(error.message)")
        }
    }
}
