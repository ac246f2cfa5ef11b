import Logging
import MetaService
import NIOConcurrencyHelpers
import NIOCore
import Shared

extension MQTTBroker {
    /// The owner epoch a client connected to this broker holds its session record at, and the
    /// connection holding it.
    struct Ownership: Sendable {
        var epoch: UInt64
        var connection: UInt64
    }

    /// A claim waiting for the previous owner to write the session's final state.
    struct HandoverWaiter: Sendable {
        var epoch: UInt64
        var promise: EventLoopPromise<MQTTStoredSession?>
        /// The broker expected to hand the session over.
        var from: Int
    }

    /// The session records in meta.
    var sessionStore: MQTTSessionStore { MQTTSessionStore(meta: meta) }

    /// The session expiry a CONNECT asks for, capped as the session caps it.
    func requestedExpiry(_ connect: MQTTConnect) -> UInt32 {
        guard connect.protocolVersion == .v5 else { return connect.cleanStart ? 0 : UInt32.max }
        return min(connect.properties.sessionExpiryInterval ?? 0, configuration.session.maximumSessionExpiryInterval)
    }

    /// The stored message a will is published as.
    static func willMessage(of will: MQTTWill, clientIdentifier: String) -> MQTTStoredMessage {
        MQTTStoredMessage(
            topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain,
            publisherClientIdentifier: clientIdentifier, properties: will.properties, receivedAtMillis: nowMillis())
    }

    /// The session to resume for a connection of `clientIdentifier`. Standalone: the stored
    /// session. Cluster: claims the session record for this broker at the next owner epoch (with
    /// the connection's will); if another live broker had the client connected, that broker
    /// learns it from its watch, closes its connection (0x8E) and writes the final state, which
    /// this waits for (at most ``MQTTBrokerConfiguration/handoverTimeout``).
    func claim(_ clientIdentifier: String, ref: MQTTConnectionRef, connect: MQTTConnect?) async throws -> MQTTStoredSession? {
        guard let brokerID = configuration.brokerID else { return try await loadSession(clientIdentifier) }
        let will = connect?.will.map { Self.willMessage(of: $0, clientIdentifier: clientIdentifier) }
        let willDelay = connect?.will?.properties.willDelayInterval ?? 0
        let expiry = connect.map(requestedExpiry) ?? 0
        let alive = try await liveBrokers()
        var waiting: HandoverWaiter?
        var epoch: UInt64 = 0
        let outcome = try await sessionStore.update(clientIdentifier) { current in
            epoch = (current?.owner?.epoch ?? 0) + 1
            // The previous owner must hand the session over if it is another broker that is
            // still registered and has the client connected.
            let handover = current.map { $0.connected && $0.owner.map { $0.broker != brokerID && alive.contains($0.broker) } ?? false } ?? false
            var record = current ?? MQTTStoredSession(
                state: MQTTSessionState(clientIdentifier: clientIdentifier), cursors: [], disconnectedAtMillis: 0, resumable: false)
            record.owner = MQTTStoredSession.Owner(broker: brokerID, epoch: epoch)
            record.connected = true
            record.awaitingHandover = handover
            record.will = will
            record.willDelay = willDelay
            record.state.sessionExpiryInterval = expiry
            if !record.resumable {
                // If this broker dies, the session resumes from here (see MQTTSessionReaper).
                record.cursors = state.withLockedValue { $0.routed }
            }
            let claimed = Ownership(epoch: epoch, connection: ref.id)
            let waiter = handover
                ? HandoverWaiter(epoch: epoch, promise: ref.eventLoop.makePromise(), from: current?.owner?.broker ?? 0) : nil
            let replaced = state.withLockedValue { state -> HandoverWaiter? in
                state.owned[clientIdentifier] = claimed
                defer { state.handoverWaiters[clientIdentifier] = waiter }
                return state.handoverWaiters[clientIdentifier]
            }
            replaced?.promise.succeed(nil)
            waiting = waiter
            return .write(record)
        }
        var session = outcome.before
        var handedOver = false
        if let waiting {
            // Whoever takes the waiter out of the state completes it (once).
            let timeout = ref.eventLoop.scheduleTask(in: configuration.handoverTimeout) {
                let due = self.state.withLockedValue { state -> Bool in
                    guard state.handoverWaiters[clientIdentifier]?.epoch == waiting.epoch else { return false }
                    state.handoverWaiters[clientIdentifier] = nil
                    return true
                }
                if due { waiting.promise.succeed(nil) }
            }
            defer { timeout.cancel() }
            if let final = try await waiting.promise.futureResult.get() {
                session = final
                handedOver = true
            } else {
                // The previous owner did not answer in time (or its registration ended): resume
                // what the record holds, and stop waiting for it.
                _ = try await sessionStore.update(clientIdentifier) { current in
                    guard var record = current, record.owner == MQTTStoredSession.Owner(broker: brokerID, epoch: epoch), record.awaitingHandover else { return .keep }
                    record.awaitingHandover = false
                    return .write(record)
                }
                logger.warning("mqtt session not handed over", metadata: ["client": "\(clientIdentifier)", "from": "\(outcome.before?.owner?.broker ?? 0)"])
            }
        }
        guard var session else { return nil }
        if !handedOver && session.connected && !session.resumable && session.state.sessionExpiryInterval > 0 {
            // Its broker died with the client connected: the session resumes from what its record
            // holds (subscriptions written through, cursors of its connect), as the reaper would.
            session.resumable = true
        }
        return session.resumable ? session : nil
    }

    /// The node ids of the brokers registered under `/nodes/broker/`.
    func liveBrokers() async throws -> Set<Int> {
        let range = try await meta.range(prefix: MQTTClusterKeys.brokersPrefix)
        return Set(range.keyValues.compactMap { Int($0.key.dropFirst(MQTTClusterKeys.brokersPrefix.count)) })
    }

    /// A change to a session record (from the broker's watch): completes a claim waiting for a
    /// handover, and takes over a local connection whose session another broker claimed.
    func sessionRecordChanged(_ event: WatchEvent) {
        guard let brokerID = configuration.brokerID, event.kind == .put,
            let record = try? MQTTStoredSession(decoding: event.keyValue.value), let owner = record.owner
        else { return }
        let clientIdentifier = String(event.keyValue.key.dropFirst(MQTTStoredSession.keyPrefix.count))
        let (waiter, takenOver) = state.withLockedValue { state -> (HandoverWaiter?, MQTTConnectionRef?) in
            var waiter: HandoverWaiter?
            if let waiting = state.handoverWaiters[clientIdentifier],
                owner.epoch > waiting.epoch || (owner.epoch == waiting.epoch && !record.awaitingHandover)
            {
                state.handoverWaiters[clientIdentifier] = nil
                waiter = waiting
            }
            var takenOver: MQTTConnectionRef?
            if owner.broker != brokerID, let held = state.owned[clientIdentifier], owner.epoch > held.epoch {
                takenOver = state.open[held.connection]
            }
            return (waiter, takenOver)
        }
        if let waiter { waiter.promise.succeed(owner.epoch == waiter.epoch ? record : nil) }
        if let takenOver {
            logger.debug("mqtt session taken over by another broker", metadata: ["client": "\(clientIdentifier)", "broker": "\(owner.broker)"])
            takenOver.execute { $0.takeOver() }
        }
    }

    /// Cluster: broker `broker`'s registration ended (it died): claims waiting for it to hand a
    /// session over stop waiting.
    func previousOwnerGone(_ broker: Int) {
        let waiters = state.withLockedValue { state -> [HandoverWaiter] in
            let gone = state.handoverWaiters.filter { $0.value.from == broker }
            for client in gone.keys { state.handoverWaiters[client] = nil }
            return Array(gone.values)
        }
        for waiter in waiters { waiter.promise.succeed(nil) }
    }

    /// Cluster: the session of `ref` ended and outlives its connection. Written to its record
    /// while this broker still owns it (with a pending delayed will), or handed to the broker
    /// that took it over. Returns whether this broker still owns it.
    func persistClustered(_ session: MQTTStoredSession, clientIdentifier: String, ref: MQTTConnectionRef) async throws -> Bool {
        let (held, pendingWill) = releaseOwnership(clientIdentifier, ref: ref)
        guard let held, let brokerID = configuration.brokerID else { return false }
        let mine = MQTTStoredSession.Owner(broker: brokerID, epoch: held.epoch)
        let outcome = try await sessionStore.update(clientIdentifier) { current in
            if current == nil || current?.owner == mine {
                var record = session
                record.owner = mine
                record.connected = false
                record.resumable = true
                record.awaitingHandover = false
                let keepsWill = (pendingWill?.delay ?? 0) > 0 && (current == nil || current?.will != nil)
                record.will = keepsWill ? pendingWill?.will : nil
                record.willDelay = keepsWill ? pendingWill?.delay ?? 0 : 0
                return .write(record)
            }
            guard var record = current, record.awaitingHandover, let owner = record.owner, owner.epoch > held.epoch else { return .keep }
            record.state = session.state
            record.cursors = session.cursors
            record.resumable = true
            record.awaitingHandover = false
            return .write(record)
        }
        let owned = outcome.before == nil || outcome.before?.owner == mine
        publishEndedWill(pendingWill, outcome: outcome, owned: owned)
        if case .write = outcome.applied { return owned }
        return false
    }

    /// Publishes the immediate will of an ended connection if the write that ended its session
    /// took it out of the record (a reaper that already published it took it out first), or if
    /// the session was taken over (the record then holds the new connection's will).
    private func publishEndedWill(_ pending: PendingWill?, outcome: MQTTSessionStore.Outcome, owned: Bool) {
        guard let pending, pending.delay == 0 else { return }
        if !owned || outcome.before?.will != nil { pending.publish() }
    }

    /// Cluster: the session of `ref` ended with its connection: its record is deleted while this
    /// broker owns it, or marked handed over (nothing to resume) for the broker that took it over.
    func discardClustered(_ clientIdentifier: String, ref: MQTTConnectionRef) async throws {
        let (held, pendingWill) = releaseOwnership(clientIdentifier, ref: ref)
        guard let held, let brokerID = configuration.brokerID else { return }
        let mine = MQTTStoredSession.Owner(broker: brokerID, epoch: held.epoch)
        let outcome = try await sessionStore.update(clientIdentifier) { current in
            guard var record = current else { return .keep }
            if record.owner == mine { return .delete }
            guard record.awaitingHandover, let owner = record.owner, owner.epoch > held.epoch else { return .keep }
            record.resumable = false
            record.awaitingHandover = false
            return .write(record)
        }
        let owned = outcome.before?.owner == mine
        if outcome.before != nil { publishEndedWill(pendingWill, outcome: outcome, owned: owned) }
    }

    /// Cluster: a connection that claimed its client's record closed before its session started:
    /// the record is released (disconnected now, or deleted if there is nothing to resume).
    func abandonClaim(_ clientIdentifier: String, ref: MQTTConnectionRef) {
        let (held, _) = releaseOwnership(clientIdentifier, ref: ref)
        guard let held, let brokerID = configuration.brokerID else { return }
        let mine = MQTTStoredSession.Owner(broker: brokerID, epoch: held.epoch)
        Task {
            _ = try? await self.sessionStore.update(clientIdentifier) { current in
                guard var record = current, record.owner == mine, record.connected else { return .keep }
                guard record.resumable else { return .delete }
                record.connected = false
                record.will = nil
                record.disconnectedAtMillis = Self.nowMillis()
                return .write(record)
            }
        }
    }

    /// Forgets `ref`'s ownership of its client's record; returns it and the delayed will the
    /// connection left, if any.
    private func releaseOwnership(_ clientIdentifier: String, ref: MQTTConnectionRef) -> (Ownership?, PendingWill?) {
        state.withLockedValue { state in
            guard let held = state.owned[clientIdentifier], held.connection == ref.id else { return (nil, nil) }
            state.owned[clientIdentifier] = nil
            return (held, state.pendingWills.removeValue(forKey: clientIdentifier))
        }
    }

    /// Cluster: the ownership of a connection's record when its delayed will is armed.
    func ownershipEpoch(_ clientIdentifier: String, ref: MQTTConnectionRef?) -> UInt64? {
        state.withLockedValue { state in
            guard let held = state.owned[clientIdentifier], ref == nil || held.connection == ref?.id else { return nil }
            return held.epoch
        }
    }

    /// Cluster: takes a pending will out of the session record if this broker (at `epoch`) still
    /// owns the disconnected session; only then may the will be published (never twice).
    func claimWill(_ clientIdentifier: String, epoch: UInt64) async throws -> Bool {
        guard let brokerID = configuration.brokerID else { return true }
        let mine = MQTTStoredSession.Owner(broker: brokerID, epoch: epoch)
        let outcome = try await sessionStore.update(clientIdentifier) { current in
            guard var record = current, record.owner == mine, !record.connected, record.will != nil else { return .keep }
            record.will = nil
            record.willDelay = 0
            return .write(record)
        }
        if case .write = outcome.applied { return true }
        return false
    }

    /// Cluster: writes a connected client's subscription changes through to its session record,
    /// so that the session keeps them if this broker dies.
    func recordSubscriptions(_ clientIdentifier: String, added: [MQTTSubscriptionRequest], removed: [String]) {
        guard let brokerID = configuration.brokerID, let epoch = ownershipEpoch(clientIdentifier, ref: nil) else { return }
        let mine = MQTTStoredSession.Owner(broker: brokerID, epoch: epoch)
        Task {
            do {
                _ = try await self.sessionStore.update(clientIdentifier) { current in
                    guard var record = current, record.owner == mine, record.connected else { return .keep }
                    for request in added {
                        record.state.subscriptions[request.subscription.topicFilter] = MQTTSessionState.Subscription(
                            subscription: request.subscription, subscriptionIdentifier: request.subscriptionIdentifier)
                    }
                    for filter in removed { record.state.subscriptions[filter] = nil }
                    return .write(record)
                }
            } catch {
                self.logger.warning("mqtt subscriptions not recorded", metadata: ["client": "\(clientIdentifier)", "error": "\(error)"])
            }
        }
    }

    /// Follows `/mqtt/sessions/` from `revision` + 1 for as long as the broker runs.
    func startSessionWatch(after revision: UInt64) {
        startWatch(prefix: MQTTStoredSession.keyPrefix, after: revision, name: "sessions") { self.sessionRecordChanged($0) }
    }

    /// Follows a meta prefix from `revision` + 1, calling `body` with every event in order, and
    /// resumes after the last event seen when the stream fails (from now on if that revision
    /// was compacted).
    func startWatch(prefix: String, after revision: UInt64, name: String, _ body: @escaping @Sendable (WatchEvent) -> Void) {
        let task = Task {
            var next = revision + 1
            while !Task.isCancelled {
                let stream = meta.watch(prefix: prefix, fromRevision: next)
                do {
                    try await withTaskCancellationHandler {
                        for try await response in stream {
                            for event in response.events {
                                body(event)
                                next = event.revision + 1
                            }
                        }
                    } onCancel: {
                        stream.cancel()
                    }
                } catch {
                    if Task.isCancelled { break }
                    if let rpc = error as? RPCError, rpc.message.contains("compacted") { next = 0 }
                    logger.warning("mqtt meta watch failed; watching again", metadata: ["watch": "\(name)", "error": "\(error)"])
                }
                try? await Task.sleep(nanoseconds: 200_000_000)
            }
        }
        state.withLockedValue { $0.tails.append(task) }
    }
}

/// Meta keys of the broker cluster.
public enum MQTTClusterKeys {
    /// Brokers register under `/nodes/broker/<id>` with a lease.
    public static let brokersPrefix = "/nodes/broker/"
    /// Shared subscription group membership: `/mqtt/shared/<group>\u{1}<filter>/<broker id>`.
    public static let sharedPrefix = "/mqtt/shared/"
}
