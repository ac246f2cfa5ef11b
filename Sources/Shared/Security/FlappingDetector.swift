/// Bans clients that connect too often: `maximumConnects` connects within `window` bans the
/// client id for `banDuration`. IO-free: the current time is passed in (monotonic clock).
public struct FlappingDetector: Sendable {
    /// Outcome of a connect attempt.
    public enum Verdict: Sendable, Equatable {
        /// The connect may proceed.
        case allowed
        /// The client is banned until the given instant.
        case banned(until: ContinuousClock.Instant)
    }

    private struct History: Sendable {
        var connects: [ContinuousClock.Instant] = []
        var bannedUntil: ContinuousClock.Instant?
    }

    /// Connects tolerated within `window`; one more triggers a ban.
    public let maximumConnects: Int
    /// The sliding window.
    public let window: Duration
    /// How long a ban lasts.
    public let banDuration: Duration
    /// Most client ids tracked; beyond it stale histories are purged first.
    public let maximumTrackedClients: Int
    private var histories: [String: History] = [:]

    /// Creates a detector. `maximumConnects` is at least 1.
    public init(maximumConnects: Int, window: Duration, banDuration: Duration, maximumTrackedClients: Int = 100_000) {
        self.maximumConnects = max(1, maximumConnects)
        self.window = window
        self.banDuration = banDuration
        self.maximumTrackedClients = max(1, maximumTrackedClients)
    }

    /// Number of client ids currently tracked.
    public var trackedClients: Int { histories.count }

    /// Records a connect by `clientID` at `now` and says whether it may proceed.
    public mutating func recordConnect(clientID: String, now: ContinuousClock.Instant) -> Verdict {
        var history = histories[clientID] ?? History()
        if let until = history.bannedUntil {
            if now < until { return .banned(until: until) }
            history = History()
        }
        history.connects.removeAll { now - $0 >= window }
        history.connects.append(now)
        if history.connects.count > maximumConnects {
            let until = now + banDuration
            history = History(connects: [], bannedUntil: until)
            histories[clientID] = history
            return .banned(until: until)
        }
        if histories[clientID] == nil, histories.count >= maximumTrackedClients {
            purge(now: now)
            if histories.count >= maximumTrackedClients { return .allowed }
        }
        histories[clientID] = history
        return .allowed
    }

    /// The end of `clientID`'s ban, if it is banned at `now`.
    public func bannedUntil(clientID: String, now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        guard let until = histories[clientID]?.bannedUntil, now < until else { return nil }
        return until
    }

    /// Lifts a ban and forgets the client's history.
    public mutating func reset(clientID: String) {
        histories[clientID] = nil
    }

    /// Forgets histories with no connect inside the window and no ban in force.
    public mutating func purge(now: ContinuousClock.Instant) {
        histories = histories.filter { _, history in
            if let until = history.bannedUntil, now < until { return true }
            return history.connects.contains { now - $0 < window }
        }
    }
}
