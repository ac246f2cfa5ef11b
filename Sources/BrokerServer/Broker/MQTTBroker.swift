import Foundation
import Logging
import MetaService
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization

/// The MQTT broker of one process: the session registry, the subscription index, the publish
/// path into the journal and the delivery path out of it, persistent sessions in meta, retained
/// messages, wills, shared subscriptions, delayed publications and `$SYS`.
///
/// Connections are driven by ``MQTTConnectionHandler``s (install them with ``configureMQTT(_:)``),
/// each owning one ``MQTTSession`` on its channel's event loop. The broker's own state sits behind
/// one lock that is never held across IO; timers run on ``eventLoop``.
///
/// Lifecycle: ``start()`` creates the shards, rebuilds the retained index, starts one journal tail
/// per shard from its end, re-arms stored sessions' expiry and stored delayed publications;
/// ``shutdown()`` disconnects every client (v5: DISCONNECT 0x8B), persists their sessions and
/// stops the tails.
public final class MQTTBroker: Sendable {
    /// The broker's settings.
    public let configuration: MQTTBrokerConfiguration
    /// Where the broker's timers run.
    public let eventLoop: any EventLoop
    let journal: any MQTTJournal
    let meta: MetaClient
    let authenticator: any MQTTAuthenticator
    let authorizer: any MQTTAuthorizer
    let logger: Logger
    let shardMap: MQTTShardMap
    let appender: MQTTAppendBatcher
    let metrics = MQTTBrokerMetrics()
    let counters = Counters()
    let startedAt = NIODeadline.now()
    let state: NIOLockedValueBox<State>

    /// Totals published on `$SYS`.
    final class Counters: Sendable {
        let messagesReceived = Atomic<Int>(0)
        let messagesSent = Atomic<Int>(0)
        let bytesReceived = Atomic<Int>(0)
        let bytesSent = Atomic<Int>(0)
    }

    struct State {
        var index = SubscriptionIndex()
        /// The live connection of each client identifier.
        var connections: [String: MQTTConnectionRef] = [:]
        /// Every open connection by id (for shutdown).
        var open: [UInt64: MQTTConnectionRef] = [:]
        var nextConnectionID: UInt64 = 1
        /// Per shard: the offset the tail routes next.
        var routed: [Int64] = []
        /// Per connection id and shard: the last offset of the latest batch handed to it.
        var sentThrough: [UInt64: [Int: Int64]] = [:]
        /// Round-robin position per shared group (group + NUL + filter).
        var sharedTurn: [String: Int] = [:]
        var retained = MQTTRetainedIndex()
        /// Client identifiers with a session stored in meta.
        var stored: Set<String> = []
        /// Connections whose session is being written to (or deleted from) meta, by client.
        var ending: [String: MQTTConnectionRef] = [:]
        var expiryTimers: [String: Scheduled<Void>] = [:]
        var willTimers: [String: Scheduled<Void>] = [:]
        var delayedTimers: [String: Scheduled<Void>] = [:]
        var nextDelayed: UInt64 = 0
        var tails: [Task<Void, Never>] = []
        var sysTask: RepeatedTask?
        /// Cluster: the owner epoch each client connected here holds its session record at.
        var owned: [String: Ownership] = [:]
        /// Cluster: claims waiting for the previous owner's final session state, by client.
        var handoverWaiters: [String: HandoverWaiter] = [:]
        /// Cluster: delayed wills of ended connections, kept in their session record.
        var pendingWills: [String: PendingWill] = [:]
        /// Cluster: the retained shard's next offset to apply.
        var retainedRouted: Int64 = 0
        /// Cluster: the member brokers of each shared group (group + NUL + filter), sorted.
        var sharedBrokers: [String: [Int]] = [:]
        /// Cluster: the shared groups this broker has registered itself as a member of.
        var sharedRegistered: Set<String> = []
        /// Cluster: the local members of each shared group.
        var sharedLocal: [String: Set<String>] = [:]
        /// Cluster: the lease the broker's registration (and group memberships) hang on.
        var clusterLease: UInt64 = 0
        var started = false
        var shuttingDown = false
    }

    /// A broker over `journal` (messages) and `meta` (sessions, delayed publications).
    public init(
        configuration: MQTTBrokerConfiguration,
        journal: any MQTTJournal,
        meta: MetaClient,
        authenticator: (any MQTTAuthenticator)? = nil,
        authorizer: any MQTTAuthorizer = MQTTDefaultAuthorizer(),
        eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next(),
        logger: Logger
    ) {
        self.configuration = configuration
        self.journal = journal
        self.appender = MQTTAppendBatcher(journal: journal)
        self.meta = meta
        self.authenticator = authenticator ?? MQTTAnonymousAuthenticator(allowAnonymous: configuration.allowAnonymous)
        self.authorizer = authorizer
        self.eventLoop = eventLoop
        self.logger = logger
        self.shardMap = MQTTShardMap(count: configuration.shardCount)
        var initial = State()
        initial.routed = Array(repeating: 0, count: shardMap.count)
        self.state = NIOLockedValueBox(initial)
    }

    /// Wall-clock milliseconds since the Unix epoch.
    static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Monotonic nanoseconds, the clock ``MQTTSession`` runs on.
    static func monotonicNow() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    /// The number of connected clients.
    public var connectedClients: Int { state.withLockedValue { $0.connections.count } }

    /// The number of subscriptions in the index (live sessions only).
    public var subscriptionCount: Int { state.withLockedValue { $0.index.count } }

    // MARK: Start and stop

    /// Creates the shards, loads retained messages, stored sessions and delayed publications, and
    /// starts the journal tails. Call once before accepting connections.
    public func start() async throws {
        for name in shardMap.names + [MQTTShardMap.retainedShard] {
            try await journal.ensureShard(name, replicationFactor: configuration.shardReplicationFactor)
        }
        try await loadRetained()
        var ends: [Int64] = []
        for name in shardMap.names { ends.append(try await journal.endOffset(shard: name)) }
        state.withLockedValue { $0.routed = ends }
        for index in 0..<shardMap.count { startTail(shard: index, from: ends[index]) }
        if let brokerID = configuration.brokerID {
            try await startCluster(brokerID: brokerID)
        } else {
            try await loadStoredSessions()
        }
        try await loadDelayed()
        startSys()
        state.withLockedValue { $0.started = true }
        logger.info("mqtt broker started", metadata: ["shards": "\(shardMap.count)", "retained": "\(state.withLockedValue { $0.retained.count })"])
    }

    /// Disconnects every client (5.0: DISCONNECT 0x8B server shutting down), waits until their
    /// sessions are persisted (at most `timeout`), then stops the tails and timers.
    public func shutdown(timeout: TimeAmount = .seconds(10)) async {
        let (connections, tails, timers, sys) = state.withLockedValue { state in
            state.shuttingDown = true
            let timers = Array(state.expiryTimers.values) + Array(state.willTimers.values) + Array(state.delayedTimers.values)
            state.expiryTimers = [:]
            state.willTimers = [:]
            state.delayedTimers = [:]
            defer { state.tails = []; state.sysTask = nil }
            return (Array(state.open.values), state.tails, timers, state.sysTask)
        }
        sys?.cancel()
        for connection in connections { connection.execute { $0.serverShutdown() } }
        let all = EventLoopFuture.andAllComplete(connections.map { $0.ended.futureResult }, on: eventLoop)
        let done = eventLoop.makePromise(of: Void.self)
        let completed = NIOLockedValueBox(false)
        let finish: @Sendable () -> Void = {
            let first = completed.withLockedValue { completed in
                defer { completed = true }
                return !completed
            }
            if first { done.succeed() }
        }
        all.whenComplete { _ in finish() }
        let deadline = eventLoop.scheduleTask(in: timeout) { finish() }
        try? await done.futureResult.get()
        deadline.cancel()
        for timer in timers { timer.cancel() }
        for tail in tails { tail.cancel() }
        logger.info("mqtt broker stopped", metadata: ["sessions": "\(connections.count)"])
    }

    // MARK: Connections

    /// Counts a new connection; `nil` when the limit is reached or the broker is stopping.
    func openConnection(_ make: (UInt64) -> MQTTConnectionRef) -> MQTTConnectionRef? {
        let ref: MQTTConnectionRef? = state.withLockedValue { state in
            guard !state.shuttingDown, state.open.count < configuration.maximumConnections else { return nil }
            let ref = make(state.nextConnectionID)
            state.nextConnectionID += 1
            state.open[ref.id] = ref
            return ref
        }
        if ref != nil {
            metrics.connectionsTotal.increment()
            metrics.connections.record(state.withLockedValue { $0.open.count })
        } else {
            metrics.connectionsRefused.increment()
        }
        return ref
    }

    /// The connection is gone; `completeEnded` when it had no session that persists or discards
    /// (which completes `ref.ended` itself).
    func closeConnection(_ ref: MQTTConnectionRef, clientIdentifier: String?, completeEnded: Bool) {
        let count = state.withLockedValue { state in
            state.open[ref.id] = nil
            state.sentThrough[ref.id] = nil
            if let clientIdentifier, state.connections[clientIdentifier] === ref {
                state.connections[clientIdentifier] = nil
                state.index.removeAll(clientIdentifier: clientIdentifier)
                Self.forgetShared(clientIdentifier: clientIdentifier, in: &state)
            }
            return state.open.count
        }
        metrics.connections.record(count)
        syncSharedMemberships()
        if completeEnded, let clientIdentifier { abandonClaim(clientIdentifier, ref: ref) }
        if completeEnded { ref.ended.succeed() }
    }

    /// Makes `ref` the connection of `clientIdentifier`. An existing connection of that client is
    /// taken over (DISCONNECT 0x8E) and the returned future waits until its session is stored;
    /// then it yields the stored session (if any) and the shards' current routing positions.
    /// In a cluster the session record is claimed for this broker first (``claim(_:ref:connect:)``),
    /// which takes the client over from another broker.
    func attach(
        _ ref: MQTTConnectionRef, clientIdentifier: String, connect: MQTTConnect? = nil
    ) -> EventLoopFuture<(MQTTStoredSession?, [Int64])> {
        let (old, ending, timers) = state.withLockedValue { state -> (MQTTConnectionRef?, MQTTConnectionRef?, [Scheduled<Void>]) in
            let old = state.connections[clientIdentifier]
            state.connections[clientIdentifier] = ref
            let timers = [state.willTimers.removeValue(forKey: clientIdentifier), state.expiryTimers.removeValue(forKey: clientIdentifier)]
            return (old === ref ? nil : old, state.ending[clientIdentifier], timers.compactMap { $0 })
        }
        for timer in timers { timer.cancel() }
        // Wait for a connection being taken over, and for a session still being written by a
        // connection that already ended (a quick reconnect must not read the older copy).
        var handovers: [EventLoopFuture<Void>] = []
        if let old {
            old.execute { $0.takeOver() }
            handovers.append(old.ended.futureResult)
        }
        if let ending { handovers.append(ending.ended.futureResult) }
        let handedOver = EventLoopFuture.andAllComplete(handovers, on: ref.eventLoop)
        return handedOver.flatMap { () -> EventLoopFuture<(MQTTStoredSession?, [Int64])> in
            let promise = ref.eventLoop.makePromise(of: (MQTTStoredSession?, [Int64]).self)
            promise.completeWithTask {
                let stored = try await self.claim(clientIdentifier, ref: ref, connect: connect)
                return (stored, self.state.withLockedValue { $0.routed })
            }
            return promise.futureResult
        }
    }

    // MARK: Subscriptions

    /// Adds subscriptions of a live client; returns the shards' routing positions at that moment
    /// (records before them were routed without these subscriptions) and, per shard, the last
    /// offset of the latest batch already handed to `ref`.
    func subscribe(
        clientIdentifier: String, _ requests: [MQTTSubscriptionRequest], from ref: MQTTConnectionRef?
    ) -> (routed: [Int64], sentThrough: [Int: Int64]) {
        let result = state.withLockedValue { state in
            for request in requests {
                state.index.insert(
                    SubscriptionIndex.Entry(
                        clientIdentifier: clientIdentifier, subscription: request.subscription,
                        subscriptionIdentifier: request.subscriptionIdentifier))
            }
            Self.noteShared(requests.map(\.subscription.topicFilter), clientIdentifier: clientIdentifier, joined: true, in: &state)
            return (state.routed, ref.flatMap { state.sentThrough[$0.id] } ?? [:])
        }
        syncSharedMemberships()
        recordSubscriptions(clientIdentifier, added: requests, removed: [])
        return result
    }

    /// Removes subscriptions of a client.
    func unsubscribe(clientIdentifier: String, topicFilters: [String]) {
        state.withLockedValue { state in
            for filter in topicFilters {
                state.index.remove(SubscriptionIndex.Key(clientIdentifier: clientIdentifier, topicFilter: filter))
            }
            Self.noteShared(topicFilters, clientIdentifier: clientIdentifier, joined: false, in: &state)
        }
        syncSharedMemberships()
        recordSubscriptions(clientIdentifier, added: [], removed: topicFilters)
    }

    /// The retained messages for a new subscription, as deliveries.
    func retainedDeliveries(for request: MQTTSubscriptionRequest) -> [MQTTDelivery] {
        let messages = state.withLockedValue { $0.retained.matching(request.subscription.topicFilter) }
        let now = Self.monotonicNow()
        let nowMillis = Self.nowMillis()
        return messages.map { message in
            var delivery = Self.delivery(of: message, monotonicNow: now, nowMillis: nowMillis)
            delivery.subscriptionQoS = request.subscription.qos
            delivery.subscriptionIdentifiers = request.subscriptionIdentifier.map { [$0] } ?? []
            delivery.isRetainedDelivery = true
            return delivery
        }
    }

    /// A delivery of a stored message with its receive time moved onto the monotonic clock.
    static func delivery(of message: MQTTStoredMessage, monotonicNow: UInt64, nowMillis: Int64) -> MQTTDelivery {
        let ageNanos = UInt64(max(nowMillis - message.receivedAtMillis, 0)) &* 1_000_000
        return MQTTDelivery(
            topic: message.topic, payload: message.payload, qos: message.qos, retain: message.retain,
            properties: message.properties, publisherClientIdentifier: message.publisherClientIdentifier,
            receivedAt: monotonicNow > ageNanos ? monotonicNow - ageNanos : 0)
    }

    /// Counts traffic for `$SYS` and the metrics.
    func count(received: Int = 0, sent: Int = 0, bytesIn: Int = 0, bytesOut: Int = 0) {
        if received > 0 {
            counters.messagesReceived.add(received, ordering: .relaxed)
            metrics.messagesReceived.increment(by: Int64(received))
        }
        if sent > 0 {
            counters.messagesSent.add(sent, ordering: .relaxed)
            metrics.messagesSent.increment(by: Int64(sent))
        }
        if bytesIn > 0 {
            counters.bytesReceived.add(bytesIn, ordering: .relaxed)
            metrics.bytesReceived.increment(by: Int64(bytesIn))
        }
        if bytesOut > 0 {
            counters.bytesSent.add(bytesOut, ordering: .relaxed)
            metrics.bytesSent.increment(by: Int64(bytesOut))
        }
    }
}
