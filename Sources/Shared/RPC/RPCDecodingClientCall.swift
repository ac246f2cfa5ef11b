import NIOCore

/// A unary call of an ``RPCClient`` whose response is decoded into `Response` on the event loop,
/// as it arrives, and handed straight to the caller's typed promise: the caller's future is the
/// only one of the call (no raw-body future mapped into a second one).
final class RPCDecodingClientCall<Response: RPCMessage>: RPCUnaryClientCall, @unchecked Sendable {
    /// The caller's promise.
    let typedPromise: EventLoopPromise<Response>
    private let methodName: String

    init(eventLoop: any EventLoop, methodID: UInt32, methodName: String, request: ByteBuffer, deadline: NIODeadline?, started: NIODeadline) {
        self.typedPromise = eventLoop.makePromise(of: Response.self)
        self.methodName = methodName
        super.init(eventLoop: eventLoop, promise: nil, methodID: methodID, request: request, deadline: deadline, started: started)
    }

    override func deliver(_ result: Result<ByteBuffer, RPCError>) {
        switch result {
        case .success(let body):
            do {
                self.typedPromise.succeed(try RPCClient.decodeResponse(body, self.methodName) as Response)
            } catch {
                self.typedPromise.fail(error)
            }
        case .failure(let error):
            self.typedPromise.fail(error)
        }
    }
}
