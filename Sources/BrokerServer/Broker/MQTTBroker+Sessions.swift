import Logging
import MetaService
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

extension MQTTBroker {
    /// The stored session of `clientIdentifier`, if meta has one.
    func loadSession(_ clientIdentifier: String) async throws -> MQTTStoredSession? {
        guard configuration.brokerID != nil || state.withLockedValue({ $0.stored.contains(clientIdentifier) }) else { return nil }
        guard let value = try await meta.get(MQTTStoredSession.key(of: clientIdentifier)).keyValue?.value else { return nil }
        do {
            return try MQTTStoredSession(decoding: value)
        } catch {
            logger.warning("mqtt stored session unreadable; starting fresh", metadata: ["client": "\(clientIdentifier)", "error": "\(error)"])
            return nil
        }
    }

    /// The session of `ref` ended and outlives its connection: its subscriptions leave the index
    /// and it is written to meta; its expiry timer starts. `ref.ended` completes after the write.
    func persist(_ session: MQTTStoredSession, from ref: MQTTConnectionRef) {
        let clientIdentifier = session.state.clientIdentifier
        detach(clientIdentifier, ref: ref, stored: true)
        let bytes: [UInt8]
        do {
            bytes = try session.encode()
        } catch {
            logger.error("mqtt session not encodable", metadata: ["client": "\(clientIdentifier)", "error": "\(error)"])
            ref.ended.succeed()
            return
        }
        let promise = eventLoop.makePromise(of: Bool.self)
        promise.completeWithTask {
            if self.configuration.brokerID != nil {
                return try await self.persistClustered(session, clientIdentifier: clientIdentifier, ref: ref)
            }
            _ = try await self.meta.put(MQTTStoredSession.key(of: clientIdentifier), bytes)
            return true
        }
        promise.futureResult.whenComplete { result in
            switch result {
            case .failure(let error):
                self.logger.error("mqtt session not stored", metadata: ["client": "\(clientIdentifier)", "error": "\(error)"])
            case .success(false):
                // Cluster: another broker owns the session now; it expires it.
                self.state.withLockedValue { _ = $0.stored.remove(clientIdentifier) }
            case .success(true):
                if let remaining = session.remainingMillis(nowMillis: Self.nowMillis()) {
                    self.armExpiry(clientIdentifier, in: remaining)
                }
            }
            ref.ended.succeed()
        }
    }

    /// The session of `ref` ended with its connection: its stored copy (if any) is deleted.
    func discard(_ clientIdentifier: String, from ref: MQTTConnectionRef) {
        let wasStored = state.withLockedValue { $0.stored.contains(clientIdentifier) }
        detach(clientIdentifier, ref: ref, stored: false)
        if configuration.brokerID != nil {
            let promise = eventLoop.makePromise(of: Void.self)
            promise.completeWithTask { try await self.discardClustered(clientIdentifier, ref: ref) }
            promise.futureResult.whenComplete { result in
                if case .failure(let error) = result {
                    self.logger.warning("mqtt session record not released", metadata: ["client": "\(clientIdentifier)", "error": "\(error)"])
                }
                ref.ended.succeed()
            }
            return
        }
        guard wasStored else {
            ref.ended.succeed()
            return
        }
        let promise = eventLoop.makePromise(of: Void.self)
        promise.completeWithTask {
            _ = try await self.meta.delete(MQTTStoredSession.key(of: clientIdentifier))
        }
        promise.futureResult.whenComplete { _ in ref.ended.succeed() }
    }

    /// Takes a client's subscriptions out of the index and `ref` out of the registry (unless a
    /// newer connection already replaced it).
    private func detach(_ clientIdentifier: String, ref: MQTTConnectionRef, stored: Bool) {
        state.withLockedValue { state in
            if state.connections[clientIdentifier] === ref {
                state.connections[clientIdentifier] = nil
            }
            state.index.removeAll(clientIdentifier: clientIdentifier)
            Self.forgetShared(clientIdentifier: clientIdentifier, in: &state)
            if stored { state.stored.insert(clientIdentifier) } else { state.stored.remove(clientIdentifier) }
            state.ending[clientIdentifier] = ref
        }
        syncSharedMemberships()
        ref.ended.futureResult.whenComplete { _ in
            self.state.withLockedValue { state in
                if state.ending[clientIdentifier] === ref { state.ending[clientIdentifier] = nil }
            }
        }
    }

    /// Deletes the stored session of `clientIdentifier` after `millis` unless it resumes first.
    func armExpiry(_ clientIdentifier: String, in millis: Int64) {
        let timer = eventLoop.scheduleTask(in: .milliseconds(millis)) {
            self.expire(clientIdentifier)
        }
        let previous = state.withLockedValue { state -> Scheduled<Void>? in
            if state.connections[clientIdentifier] != nil || state.shuttingDown {
                timer.cancel()
                return nil
            }
            defer { state.expiryTimers[clientIdentifier] = timer }
            return state.expiryTimers[clientIdentifier]
        }
        previous?.cancel()
    }

    private func expire(_ clientIdentifier: String) {
        let expired = state.withLockedValue { state -> Bool in
            state.expiryTimers[clientIdentifier] = nil
            guard state.connections[clientIdentifier] == nil, state.stored.contains(clientIdentifier) else { return false }
            state.stored.remove(clientIdentifier)
            return true
        }
        guard expired else { return }
        logger.debug("mqtt session expired", metadata: ["client": "\(clientIdentifier)"])
        let brokerID = configuration.brokerID
        Task {
            do {
                if let brokerID {
                    // Only a record this broker still owns, disconnected and past its expiry.
                    _ = try await self.sessionStore.update(clientIdentifier) { current in
                        guard let record = current, record.owner?.broker == brokerID, !record.connected,
                            record.remainingMillis(nowMillis: Self.nowMillis()) == 0
                        else { return .keep }
                        return .delete
                    }
                    return
                }
                _ = try await self.meta.delete(MQTTStoredSession.key(of: clientIdentifier))
            } catch {
                self.logger.warning("mqtt expired session not deleted", metadata: ["client": "\(clientIdentifier)", "error": "\(error)"])
            }
        }
    }

    /// Loads the stored sessions' identifiers and re-arms their expiry (deleting expired ones).
    func loadStoredSessions() async throws {
        let range = try await meta.range(prefix: MQTTStoredSession.keyPrefix)
        let now = Self.nowMillis()
        var expired: [String] = []
        for keyValue in range.keyValues {
            let clientIdentifier = String(keyValue.key.dropFirst(MQTTStoredSession.keyPrefix.count))
            guard let session = try? MQTTStoredSession(decoding: keyValue.value) else {
                expired.append(clientIdentifier)
                continue
            }
            let remaining = session.remainingMillis(nowMillis: now)
            if remaining == 0 {
                expired.append(clientIdentifier)
                continue
            }
            state.withLockedValue { _ = $0.stored.insert(clientIdentifier) }
            if let remaining { armExpiry(clientIdentifier, in: remaining) }
        }
        for clientIdentifier in expired {
            _ = try await meta.delete(MQTTStoredSession.key(of: clientIdentifier))
        }
        logger.info("mqtt stored sessions loaded", metadata: ["sessions": "\(range.keyValues.count - expired.count)", "expired": "\(expired.count)"])
    }
}
