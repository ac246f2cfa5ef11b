/// Decides which successful calls are timed: the first, then one in
/// ``RPCMetrics/latencySampleInterval``. Confined to one event loop (a connection or a slot).
struct RPCLatencySampler {
    private var calls = 0

    /// Whether the next call should be timed.
    @inline(__always)
    mutating func next() -> Bool {
        defer { self.calls &+= 1 }
        return self.calls % RPCMetrics.latencySampleInterval == 0
    }
}
