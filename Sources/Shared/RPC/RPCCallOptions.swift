import NIOCore

/// Per-call options: how long the caller waits, and the initial credit window of a stream.
public struct RPCCallOptions: Sendable {
    /// The default initial stream window (items the server may send before the caller consumes).
    public static let defaultStreamWindow = 64

    /// Relative timeout; combined with ``deadline`` (the earlier wins).
    public var timeout: TimeAmount?
    /// Absolute deadline; combined with ``timeout`` (the earlier wins).
    public var deadline: NIODeadline?
    /// Items the server may send before the caller consumes any (server streams only).
    public var streamWindow: Int

    /// Creates options; by default no deadline and a window of 64 items.
    public init(timeout: TimeAmount? = nil, deadline: NIODeadline? = nil, streamWindow: Int = RPCCallOptions.defaultStreamWindow) {
        self.timeout = timeout
        self.deadline = deadline
        self.streamWindow = max(1, min(streamWindow, Int(UInt32.max)))
    }

    /// Options with only a timeout.
    public static func timeout(_ timeout: TimeAmount) -> RPCCallOptions {
        RPCCallOptions(timeout: timeout)
    }

    /// The effective absolute deadline for a call starting at `now`.
    func effectiveDeadline(now: NIODeadline = .now()) -> NIODeadline? {
        switch (self.timeout, self.deadline) {
        case (nil, nil): nil
        case (let timeout?, nil): now + timeout
        case (nil, let deadline?): deadline
        case (let timeout?, let deadline?): min(now + timeout, deadline)
        }
    }

    /// The header's relative `timeoutMillis` for `deadline` (rounded up; nil when already past).
    static func timeoutMillis(until deadline: NIODeadline?, now: NIODeadline = .now()) -> UInt32? {
        guard let deadline else { return 0 }
        let remaining = (deadline - now).nanoseconds
        guard remaining > 0 else { return nil }
        let millis = (remaining + 999_999) / 1_000_000
        return UInt32(clamping: max(1, millis))
    }
}
