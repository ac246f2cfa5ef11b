import NIOCore
import NIOSSL

/// How an ``RPCClient`` connects: endpoints, pool size, TLS, limits and reconnect backoff.
public struct RPCClientConfiguration: Sendable {
    /// Exponential reconnect backoff with jitter.
    public struct Backoff: Sendable {
        /// Delay after the first failed attempt.
        public var initial: TimeAmount
        /// Upper bound of the delay.
        public var maximum: TimeAmount
        /// Growth factor per consecutive failure.
        public var multiplier: Double
        /// Random spread, as a fraction of the delay (0.2 = ±20 %).
        public var jitter: Double

        /// Creates a backoff policy.
        public init(initial: TimeAmount = .milliseconds(50), maximum: TimeAmount = .seconds(5), multiplier: Double = 2, jitter: Double = 0.2) {
            self.initial = initial
            self.maximum = maximum
            self.multiplier = max(1, multiplier)
            self.jitter = min(max(0, jitter), 1)
        }

        /// The delay before the next attempt after `failures` consecutive failures (≥ 1).
        public func delay(afterFailures failures: Int) -> TimeAmount {
            let maximum = Double(self.maximum.nanoseconds)
            var base = Double(self.initial.nanoseconds)
            var step = 1
            while step < failures && base < maximum {
                base *= self.multiplier
                step += 1
            }
            base = min(base, maximum)
            let spread = base * self.jitter
            let jittered = base + Double.random(in: -spread...spread)
            return .nanoseconds(Int64(max(0, jittered)))
        }
    }

    /// Servers to connect to; connection slots rotate through them on failure.
    public var endpoints: [RPCEndpoint]
    /// Number of pooled connections; calls are spread round-robin.
    public var connections: Int
    /// TLS client context (nil = plain TCP).
    public var tls: NIOSSLContext?
    /// Host name for TLS SNI and verification (defaults to the endpoint host).
    public var tlsServerHostname: String?
    /// A replaceable TLS context read for every new connection; takes precedence over ``tls``
    /// (certificate reload without a restart).
    public var tlsSource: RPCTLSSource? = nil
    /// Largest frame body accepted from the server.
    public var maxFrameBytes: Int
    /// TCP connect timeout.
    public var connectTimeout: TimeAmount
    /// Reconnect backoff.
    public var backoff: Backoff
    /// Idle time after which a ping is sent; a connection silent for another interval is closed
    /// (nil disables keep-alive).
    public var keepAliveInterval: TimeAmount?

    /// Creates a configuration.
    public init(
        endpoints: [RPCEndpoint],
        connections: Int = 1,
        tls: NIOSSLContext? = nil,
        tlsServerHostname: String? = nil,
        maxFrameBytes: Int = RPCFrame.defaultMaxFrameBytes,
        connectTimeout: TimeAmount = .seconds(2),
        backoff: Backoff = Backoff(),
        keepAliveInterval: TimeAmount? = .seconds(30)
    ) {
        self.endpoints = endpoints
        self.connections = max(1, connections)
        self.tls = tls
        self.tlsServerHostname = tlsServerHostname
        self.maxFrameBytes = maxFrameBytes
        self.connectTimeout = connectTimeout
        self.backoff = backoff
        self.keepAliveInterval = keepAliveInterval
    }
}
