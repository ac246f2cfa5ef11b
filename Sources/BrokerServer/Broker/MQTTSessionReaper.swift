import Foundation
import JournalServer
import Logging
import MetaService
import NIOCore
import Shared

/// Settles the sessions of brokers that died (their `/nodes/broker/<id>` registration is gone):
/// a session still marked connected becomes disconnected now, a will whose delay has passed is
/// taken out of the record (compare-and-set) and only then published through the journal, and a
/// session past its expiry (or one that never outlives its connection) is deleted.
///
/// Every step is a compare-and-set on the session record, so several reapers (a new meta leader,
/// live brokers) may run at once or run again: a will is published at most once, by whoever
/// removed it from the record.
public struct MQTTSessionReaper: Sendable {
    /// The meta cluster holding the session records.
    public let meta: MetaClient
    /// Where wills are published.
    public let journal: any MQTTJournal
    let shardMap: MQTTShardMap
    let logger: Logger

    /// A reaper publishing wills to `journal` over `shardCount` message shards.
    public init(meta: MetaClient, journal: any MQTTJournal, shardCount: Int, logger: Logger) {
        self.meta = meta
        self.journal = journal
        self.shardMap = MQTTShardMap(count: max(shardCount, 1))
        self.logger = logger
    }

    /// The node ids of the registered brokers.
    public func registeredBrokers() async throws -> Set<Int> {
        let range = try await meta.range(prefix: MQTTClusterKeys.brokersPrefix)
        return Set(range.keyValues.compactMap { Int($0.key.dropFirst(MQTTClusterKeys.brokersPrefix.count)) })
    }

    /// Settles every session whose owner is not in `alive`; returns when the next pending will or
    /// expiry of such a session is due (milliseconds since the epoch), if any.
    public func reap(alive: Set<Int>) async throws -> Int64? {
        let (records, _) = try await MQTTSessionStore(meta: meta).all()
        var next: Int64?
        for (record, _) in records {
            guard let owner = record.owner, !alive.contains(owner.broker) else { continue }
            if let due = try await settle(record.state.clientIdentifier, alive: alive) {
                next = min(next ?? due, due)
            }
        }
        return next
    }

    /// Settles one session; returns when it next needs attention.
    func settle(_ clientIdentifier: String, alive: Set<Int>) async throws -> Int64? {
        let store = MQTTSessionStore(meta: meta)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        func orphaned(_ record: MQTTStoredSession?) -> MQTTStoredSession? {
            guard let record, let owner = record.owner, !alive.contains(owner.broker) else { return nil }
            return record
        }
        // A session of a dead broker is disconnected from now on; it outlives the connection if
        // its expiry says so (resuming from the cursors of its connect).
        _ = try await store.update(clientIdentifier) { current in
            guard var record = orphaned(current), record.connected else { return .keep }
            record.connected = false
            record.disconnectedAtMillis = now
            record.awaitingHandover = false
            record.resumable = record.resumable || record.state.sessionExpiryInterval > 0
            return .write(record)
        }
        // A due will: taken out of the record first, published after.
        var will: MQTTStoredMessage?
        let claim = try await store.update(clientIdentifier) { current in
            will = nil
            guard var record = orphaned(current), !record.connected, let pending = record.will,
                let due = record.willDueMillis, due <= now
            else { return .keep }
            will = pending
            record.will = nil
            record.willDelay = 0
            if !record.resumable || record.remainingMillis(nowMillis: now) == 0 { return .delete }
            return .write(record)
        }
        if case .keep = claim.applied { will = nil }
        if let will { try await publish(will, clientIdentifier: clientIdentifier) }
        // An ended session: deleted.
        let final = try await store.update(clientIdentifier) { current in
            guard let record = orphaned(current), !record.connected, record.will == nil else { return .keep }
            if !record.resumable || record.remainingMillis(nowMillis: now) == 0 { return .delete }
            return .keep
        }
        guard case .keep = final.applied, let record = orphaned(final.before), !record.connected else { return nil }
        var next = record.willDueMillis
        if record.resumable, let remaining = record.remainingMillis(nowMillis: now) {
            next = min(next ?? now + remaining, now + remaining)
        }
        return next
    }

    /// Appends a will to its shard (and the retained shard when it is retained).
    func publish(_ will: MQTTStoredMessage, clientIdentifier: String) async throws {
        var message = will
        message.receivedAtMillis = Int64(Date().timeIntervalSince1970 * 1000)
        let record = try message.record()
        let shard = MQTTShardMap.name(of: shardMap.shard(of: message.topic))
        _ = try await journal.appendRecords(shard: shard, records: [record]).get()
        if message.retain {
            _ = try await journal.appendRecords(shard: MQTTShardMap.retainedShard, records: [record]).get()
        }
        logger.info("mqtt will of a dead broker's client published", metadata: ["client": "\(clientIdentifier)", "topic": "\(message.topic)"])
    }
}
