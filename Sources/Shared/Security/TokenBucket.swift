/// A token bucket: `rate` tokens per second refill up to `burst`. IO-free: the caller passes a
/// monotonic time in nanoseconds. Used for connection, message and bandwidth limits.
public struct TokenBucket: Sendable {
    /// Tokens added per second.
    public let rate: Double
    /// Most tokens held.
    public let burst: Double
    private var tokens: Double
    private var updatedAt: UInt64

    /// A full bucket at `now`. `rate` and `burst` are at least a tiny positive amount.
    public init(rate: Double, burst: Double, now: UInt64) {
        self.rate = max(rate, 1e-9)
        self.burst = max(burst, 1)
        self.tokens = self.burst
        self.updatedAt = now
    }

    private mutating func refill(now: UInt64) {
        guard now > updatedAt else { return }
        tokens = min(burst, tokens + Double(now - updatedAt) / 1e9 * rate)
        updatedAt = now
    }

    /// Takes `count` tokens if that many are there; returns whether it did.
    public mutating func take(_ count: Double = 1, now: UInt64) -> Bool {
        refill(now: now)
        guard tokens >= count else { return false }
        tokens -= count
        return true
    }

    /// Nanoseconds from `now` until `count` tokens are there (0 if they are; `count` above the
    /// burst is treated as the burst).
    public mutating func nanoseconds(until count: Double, now: UInt64) -> UInt64 {
        refill(now: now)
        let missing = min(count, burst) - tokens
        guard missing > 0 else { return 0 }
        return UInt64((missing / rate * 1e9).rounded(.up))
    }

    /// Tokens available at `now`.
    public mutating func available(now: UInt64) -> Double {
        refill(now: now)
        return tokens
    }
}
