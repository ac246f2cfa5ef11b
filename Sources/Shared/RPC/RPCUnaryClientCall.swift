import NIOCore

/// One unary call of an ``RPCClient`` from start to its single completion: the caller's promise,
/// where the call is (waiting for a connection, or sent on one under a correlation id), and its
/// metrics. The connection handler completes the promise directly when the response arrives;
/// the client-side deadline and cancellation reach the call through the same object. One object
/// per call replaces a complete-once box, a call tracker and their closures.
///
/// This class hands the raw response body to `promise`; ``RPCDecodingClientCall`` decodes it into
/// the caller's typed promise instead (one future per call).
///
/// Loop-bound: all state is touched only on `eventLoop` (``abort(_:)`` hops there).
class RPCUnaryClientCall: @unchecked Sendable {
    private enum State {
        case waiting
        case sent(RPCClientConnectionHandler, UInt64)
        case done
    }

    let eventLoop: any EventLoop
    /// The caller's promise of the raw body (nil for subclasses that deliver elsewhere).
    let promise: EventLoopPromise<ByteBuffer>?
    let methodID: UInt32
    let request: ByteBuffer
    let deadline: NIODeadline?
    /// When the call started; read only if its duration is recorded.
    let started: NIODeadline
    private var state = State.waiting
    /// Set by the slot when the call is sent (on the loop).
    var metrics: RPCMetrics.Method?
    /// Whether this call's duration is recorded on success (latency sampling).
    var timed = false

    /// A call whose raw response body completes ``promise``.
    convenience init(eventLoop: any EventLoop, methodID: UInt32, request: ByteBuffer, deadline: NIODeadline?, started: NIODeadline) {
        self.init(
            eventLoop: eventLoop,
            promise: eventLoop.makePromise(of: ByteBuffer.self),
            methodID: methodID,
            request: request,
            deadline: deadline,
            started: started
        )
    }

    init(
        eventLoop: any EventLoop,
        promise: EventLoopPromise<ByteBuffer>?,
        methodID: UInt32,
        request: ByteBuffer,
        deadline: NIODeadline?,
        started: NIODeadline
    ) {
        self.eventLoop = eventLoop
        self.promise = promise
        self.methodID = methodID
        self.request = request
        self.deadline = deadline
        self.started = started
    }

    /// Whether the call still waits for its answer.
    var isPending: Bool {
        if case .done = self.state { return false }
        return true
    }

    /// Records that the call went out on `connection` as `correlationID`.
    func markSent(on connection: RPCClientConnectionHandler, correlationID: UInt64) {
        if case .waiting = self.state {
            self.state = .sent(connection, correlationID)
        }
    }

    /// The response arrived (the connection already forgot the call).
    func succeed(_ body: ByteBuffer) {
        guard self.isPending else { return }
        self.state = .done
        if let metrics = self.metrics {
            metrics.recordSuccess()
            if self.timed { metrics.recordDuration(since: self.started) }
        }
        self.deliver(.success(body))
    }

    /// The call failed (error frame, connection loss, deadline, cancellation).
    func fail(_ error: RPCError) {
        guard self.isPending else { return }
        self.state = .done
        self.metrics?.recordFailure(error, since: self.started)
        self.deliver(.failure(error))
    }

    /// Hands the call's single outcome to the caller.
    func deliver(_ result: Result<ByteBuffer, RPCError>) {
        switch result {
        case .success(let body): self.promise?.succeed(body)
        case .failure(let error): self.promise?.fail(error)
        }
    }

    /// Fails the call with `error` and, if it was sent, tells the server to cancel it.
    func abort(_ error: RPCError) {
        if self.eventLoop.inEventLoop {
            self.abortOnLoop(error)
        } else {
            self.eventLoop.execute { self.abortOnLoop(error) }
        }
    }

    private func abortOnLoop(_ error: RPCError) {
        switch self.state {
        case .done:
            return
        case .waiting:
            self.fail(error)
        case .sent(let connection, let id):
            // The connection removes the call, sends `cancel` and fails it.
            connection.abort(id, error)
            self.fail(error)
        }
    }
}

extension RPCUnaryClientCall: RPCRawUnaryCall.Canceller {
    func cancel(_ reason: RPCError) {
        self.abort(reason)
    }
}
