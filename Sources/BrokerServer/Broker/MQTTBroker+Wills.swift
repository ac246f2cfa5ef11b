import Foundation
import JournalServer
import Logging
import MetaService
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Shared
import Synchronization

extension MQTTBroker {
    /// The meta key prefix of pending delayed publications.
    static let delayedKeyPrefix = "/mqtt/delayed/"

    /// Publishes a will now, or after `delay` seconds unless the client connects again first
    /// (a delayed will of a connection that was already taken over is dropped: the session lives on).
    func publishWill(clientIdentifier: String, userName: String?, will: MQTTWill, delay: UInt32, from ref: MQTTConnectionRef?) {
        let message = MQTTStoredMessage(
            topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain,
            publisherClientIdentifier: clientIdentifier, properties: will.properties, receivedAtMillis: Self.nowMillis())
        let publish: @Sendable () -> Void = {
            guard self.authorizer.mayPublish(clientIdentifier: clientIdentifier, userName: userName, topic: will.topic) else {
                self.metrics.droppedNotAuthorized.increment()
                return
            }
            _ = self.store(message, on: self.eventLoop)
        }
        // Cluster: the will is in the session record, where the session reaper finds it if this
        // broker dies; whoever takes it out of the record first publishes it. The write that ends
        // the session takes it out (delay 0: then publishes it) or keeps it pending (delay > 0).
        var claimEpoch: UInt64?
        if configuration.brokerID != nil {
            guard let epoch = ownershipEpoch(clientIdentifier, ref: ref) else {
                if delay == 0 { publish() }  // taken over: the new owner's record holds its own will
                return
            }
            state.withLockedValue { $0.pendingWills[clientIdentifier] = PendingWill(will: message, delay: delay, publish: publish) }
            guard delay > 0 else { return }
            claimEpoch = epoch
        }
        guard delay > 0 else {
            publish()
            return
        }
        let epoch = claimEpoch
        let fire: @Sendable () -> Void = {
            if let epoch { self.publishClaimedWill(clientIdentifier, epoch: epoch, publish) } else { publish() }
        }
        let timer = eventLoop.scheduleTask(in: .seconds(Int64(delay))) {
            let due = self.state.withLockedValue { $0.willTimers.removeValue(forKey: clientIdentifier) != nil }
            if due { fire() }
        }
        let (previous, resumed) = state.withLockedValue { state -> (Scheduled<Void>?, Bool) in
            if let current = state.connections[clientIdentifier], current !== ref { return (nil, true) }
            defer { state.willTimers[clientIdentifier] = timer }
            return (state.willTimers[clientIdentifier], false)
        }
        previous?.cancel()
        if resumed { timer.cancel() }
    }

    /// Cluster: a will left by an ended connection, until the write that ends its session.
    struct PendingWill: Sendable {
        var will: MQTTStoredMessage
        var delay: UInt32
        var publish: @Sendable () -> Void
    }

    /// Cluster: publishes a delayed will once it is taken out of its session record.
    func publishClaimedWill(_ clientIdentifier: String, epoch: UInt64, _ publish: @escaping @Sendable () -> Void) {
        Task {
            do {
                if try await self.claimWill(clientIdentifier, epoch: epoch) { publish() }
            } catch {
                self.logger.warning("mqtt will not claimed", metadata: ["client": "\(clientIdentifier)", "error": "\(error)"])
            }
        }
    }

    /// Cluster: arms the delayed will of a disconnected session this broker owns (at `epoch`),
    /// due at `dueMillis`.
    func armClaimedWill(_ clientIdentifier: String, will: MQTTStoredMessage, epoch: UInt64, dueMillis: Int64) {
        let timer = eventLoop.scheduleTask(in: .milliseconds(max(dueMillis - Self.nowMillis(), 0))) {
            let due = self.state.withLockedValue { $0.willTimers.removeValue(forKey: clientIdentifier) != nil }
            guard due else { return }
            var fresh = will
            fresh.receivedAtMillis = Self.nowMillis()
            let message = fresh
            self.publishClaimedWill(clientIdentifier, epoch: epoch) { _ = self.store(message, on: self.eventLoop) }
        }
        let previous = state.withLockedValue { state -> Scheduled<Void>? in
            defer { state.willTimers[clientIdentifier] = timer }
            return state.willTimers[clientIdentifier]
        }
        previous?.cancel()
    }

    // MARK: Delayed publications

    /// `$delayed/{seconds}/{topic}`: stored in meta (acknowledged once written), published to
    /// `topic` when due, then deleted; a restart re-arms what is stored.
    func publishDelayed(_ message: MQTTStoredMessage, on eventLoop: any EventLoop) -> EventLoopFuture<MQTTReasonCode> {
        let rest = message.topic.dropFirst(Self.delayedPrefix.count)
        guard let slash = rest.firstIndex(of: "/"), let seconds = UInt32(rest[..<slash]) else {
            return eventLoop.makeSucceededFuture(.topicNameInvalid)
        }
        let topic = String(rest[rest.index(after: slash)...])
        guard MQTTTopic.isValidTopicName(topic), !topic.hasPrefix(Self.delayedPrefix) else {
            return eventLoop.makeSucceededFuture(.topicNameInvalid)
        }
        var retargeted = message
        retargeted.topic = topic
        let target = retargeted
        let due = message.receivedAtMillis + Int64(seconds) * 1000
        let key = Self.delayedKeyPrefix + String(format: "%016lld", due) + "-" + UUID().uuidString
        let bytes: [UInt8]
        do {
            bytes = try Self.encodeDelayed(target)
        } catch {
            return eventLoop.makeSucceededFuture(.unspecifiedError)
        }
        let promise = eventLoop.makePromise(of: MQTTReasonCode.self)
        promise.completeWithTask {
            do {
                _ = try await self.meta.put(key, bytes)
            } catch {
                self.logger.warning("mqtt delayed publication not stored", metadata: ["error": "\(error)"])
                return .unspecifiedError
            }
            self.armDelayed(key: key, message: target, dueMillis: due)
            return .success
        }
        return promise.futureResult
    }

    /// Schedules a stored delayed publication.
    func armDelayed(key: String, message: MQTTStoredMessage, dueMillis: Int64) {
        let wait = max(dueMillis - Self.nowMillis(), 0)
        let timer = eventLoop.scheduleTask(in: .milliseconds(wait)) {
            let due = self.state.withLockedValue { $0.delayedTimers.removeValue(forKey: key) != nil }
            guard due else { return }
            var fresh = message
            fresh.receivedAtMillis = Self.nowMillis()
            self.store(fresh, on: self.eventLoop).whenSuccess { code in
                guard code == .success else { return }
                Task { _ = try? await self.meta.delete(key) }
            }
        }
        let keep = state.withLockedValue { state -> Bool in
            guard !state.shuttingDown else { return false }
            state.delayedTimers[key] = timer
            return true
        }
        if !keep { timer.cancel() }
    }

    /// Re-arms the delayed publications stored in meta.
    func loadDelayed() async throws {
        let range = try await meta.range(prefix: Self.delayedKeyPrefix)
        for keyValue in range.keyValues {
            let name = keyValue.key.dropFirst(Self.delayedKeyPrefix.count)
            guard let due = Int64(name.prefix(16)), let message = try? Self.decodeDelayed(keyValue.value) else {
                _ = try await meta.delete(keyValue.key)
                continue
            }
            armDelayed(key: keyValue.key, message: message, dueMillis: due)
        }
    }

    /// Topic, payload and the `mqtt` record header, each length-prefixed.
    static func encodeDelayed(_ message: MQTTStoredMessage) throws(MQTTEncodeError) -> [UInt8] {
        var out = ByteBuffer()
        out.writeLengthPrefixed(string: message.topic)
        out.writeLengthPrefixed(bytes: message.payload)
        out.writeLengthPrefixed(bytes: try message.encodeHeader())
        return Array(out.readableBytesView)
    }

    static func decodeDelayed(_ bytes: [UInt8]) throws(WireDecodingError) -> MQTTStoredMessage {
        var buffer = ByteBuffer(bytes: bytes)
        let topic = try buffer.readLengthPrefixedSlice("topic", limit: Int(UInt16.max))
        let payload = try buffer.readLengthPrefixedSlice("payload", limit: MetaLimits.maxValueBytes)
        let header = try buffer.readLengthPrefixedSlice("header", limit: MetaLimits.maxValueBytes)
        let record = Record(timestamp: 0, key: topic, value: payload, headers: [RecordHeader(key: MQTTStoredMessage.headerKey, value: header)])
        return try MQTTStoredMessage(record: record)
    }
}
