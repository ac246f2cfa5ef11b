import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One pooled connection of an ``RPCClient``: connects lazily, reconnects after a drop, and
/// backs off exponentially (with jitter) after failed attempts, rotating through the endpoints.
///
/// Loop-bound: all state is touched only on `eventLoop`.
final class RPCConnectionSlot: @unchecked Sendable {
    typealias Waiter = (Result<RPCClientConnectionHandler, RPCError>) -> Void

    let eventLoop: any EventLoop
    /// Deadlines of unary calls sent through this slot (one timer for all of them).
    let deadlines: RPCDeadlineQueue<RPCUnaryClientCall>
    private let configuration: RPCClientConfiguration
    private let logger: Logger
    private let metrics: RPCMetrics
    private var channel: (any Channel)?
    private var handler: RPCClientConnectionHandler?
    private var waiters: [Waiter] = []
    private var connecting = false
    private var failures = 0
    private var nextAttempt = NIODeadline.uptimeNanoseconds(0)
    private var endpointIndex: Int
    private var closed = false
    /// Per-method metrics, looked up once per method on this loop (no lock per call).
    private var methodMetrics: [UInt32: RPCMetrics.Method] = [:]
    private var lastMethod: (UInt32, RPCMetrics.Method)?
    private var sampler = RPCLatencySampler()

    init(eventLoop: any EventLoop, configuration: RPCClientConfiguration, index: Int, logger: Logger, metrics: RPCMetrics) {
        self.eventLoop = eventLoop
        self.deadlines = RPCDeadlineQueue(
            eventLoop: eventLoop,
            isPending: { $0.isPending },
            expire: { $0.abort(RPCError(.deadlineExceeded, "deadline exceeded")) }
        )
        self.configuration = configuration
        self.endpointIndex = index
        self.logger = logger
        self.metrics = metrics
    }

    /// Starts a unary call (on the loop): arms its deadline and sends it at once when the
    /// connection is up, or once it is (re)connected. No closure or future per call on the
    /// connected path.
    func start(_ call: RPCUnaryClientCall, methodName: String) {
        self.eventLoop.preconditionInEventLoop()
        call.metrics = self.metrics(methodID: call.methodID, name: methodName)
        call.timed = self.sampler.next()
        if let deadline = call.deadline {
            self.deadlines.add(deadline: deadline, key: call)
        }
        if !self.closed, let handler = self.handler, let channel = self.channel, channel.isActive {
            // Sent right after it started: the start time stands in for "now" (one clock read).
            Self.send(call, on: handler, now: call.started)
            return
        }
        self.withConnection { result in
            guard call.isPending else { return }
            switch result {
            case .failure(let error):
                call.fail(error)
            case .success(let connection):
                Self.send(call, on: connection, now: .now())
            }
        }
    }

    private static func send(_ call: RPCUnaryClientCall, on connection: RPCClientConnectionHandler, now: NIODeadline) {
        guard let timeoutMillis = RPCCallOptions.timeoutMillis(until: call.deadline, now: now) else {
            call.abort(RPCError(.deadlineExceeded, "deadline exceeded before the call was sent"))
            return
        }
        connection.startUnary(call, timeoutMillis: timeoutMillis)
    }

    private func metrics(methodID: UInt32, name: String) -> RPCMetrics.Method {
        // Calls in a row usually go to the same method: no hashing for those.
        if let (id, metrics) = self.lastMethod, id == methodID, metrics.name == name {
            return metrics
        }
        let metrics: RPCMetrics.Method
        if let cached = self.methodMetrics[methodID], cached.name == name {
            metrics = cached
        } else {
            metrics = self.metrics.method(name)
            self.methodMetrics[methodID] = metrics
        }
        self.lastMethod = (methodID, metrics)
        return metrics
    }

    /// Calls `body` with a live connection, connecting first if needed (on the loop).
    func withConnection(_ body: @escaping Waiter) {
        self.eventLoop.preconditionInEventLoop()
        if self.closed {
            body(.failure(RPCError(.unavailable, "client is shut down")))
            return
        }
        if let handler = self.handler, let channel = self.channel, channel.isActive {
            body(.success(handler))
            return
        }
        self.waiters.append(body)
        if !self.connecting {
            self.connecting = true
            if self.nextAttempt > .now() {
                _ = self.eventLoop.assumeIsolated().scheduleTask(deadline: self.nextAttempt) { self.connect() }
            } else {
                self.connect()
            }
        }
    }

    private func connect() {
        guard !self.closed else {
            self.connectFailed(RPCError(.unavailable, "client is shut down"), countsAsFailure: false)
            return
        }
        let endpoints = self.configuration.endpoints
        guard !endpoints.isEmpty else {
            self.connectFailed(RPCError(.unavailable, "no endpoints configured"), countsAsFailure: false)
            return
        }
        let endpoint = endpoints[self.endpointIndex % endpoints.count]
        let configuration = self.configuration
        let logger = self.logger
        let metrics = self.metrics
        let bootstrap = ClientBootstrap(group: self.eventLoop)
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls = configuration.tlsSource?.context ?? configuration.tls {
                        // An IP address cannot be sent as SNI: without a name, the certificate is
                        // verified against the peer's IP address instead.
                        let hostname = configuration.tlsServerHostname ?? endpoint.host
                        let isAddress = (try? SocketAddress(ipAddress: hostname, port: 0)) != nil
                        try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: isAddress ? nil : hostname))
                    }
                    try sync.addHandler(RPCClientConnectionHandler(
                        logger: logger,
                        metrics: metrics,
                        keepAliveInterval: configuration.keepAliveInterval,
                        maxFrameBytes: configuration.maxFrameBytes
                    ))
                }
            }
        bootstrap.connect(host: endpoint.host, port: endpoint.port).hop(to: self.eventLoop).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let channel):
                guard !self.closed, let handler = try? channel.pipeline.syncOperations.handler(type: RPCClientConnectionHandler.self) else {
                    channel.close(promise: nil)
                    self.connectFailed(RPCError(.unavailable, "client is shut down"), countsAsFailure: false)
                    return
                }
                self.connected(channel, handler)
            case .failure(let error):
                self.logger.debug("RPC connect failed", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
                self.connectFailed(RPCError(.unavailable, "cannot connect to \(endpoint): \(error)"), countsAsFailure: true)
            }
        }
    }

    private func connected(_ channel: any Channel, _ handler: RPCClientConnectionHandler) {
        self.connecting = false
        self.failures = 0
        self.channel = channel
        self.handler = handler
        channel.closeFuture.hop(to: self.eventLoop).assumeIsolated().whenComplete { _ in
            if self.channel === channel {
                self.channel = nil
                self.handler = nil
            }
        }
        let waiters = self.waiters
        self.waiters = []
        for waiter in waiters {
            waiter(.success(handler))
        }
    }

    private func connectFailed(_ error: RPCError, countsAsFailure: Bool) {
        self.connecting = false
        if countsAsFailure {
            self.failures += 1
            self.endpointIndex &+= 1
            self.nextAttempt = .now() + self.configuration.backoff.delay(afterFailures: self.failures)
        }
        let waiters = self.waiters
        self.waiters = []
        for waiter in waiters {
            waiter(.failure(error))
        }
    }

    /// Closes the connection and refuses further calls; the future completes once closed.
    func close() -> EventLoopFuture<Void> {
        self.eventLoop.preconditionInEventLoop()
        self.closed = true
        guard let channel = self.channel else { return self.eventLoop.makeSucceededVoidFuture() }
        channel.close(promise: nil)
        return channel.closeFuture
    }
}
