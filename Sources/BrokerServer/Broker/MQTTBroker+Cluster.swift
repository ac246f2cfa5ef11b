import Foundation
import JournalServer
import Logging
import MetaService
import NIOConcurrencyHelpers
import NIOCore
import Shared

extension MQTTBroker {
    /// Cluster start: settles the session records a previous run of this broker left (connected
    /// ones become disconnected now; expiry and delayed wills are re-armed), keeps the retained
    /// index fresh from the retained shard's tail, and watches session records (takeovers),
    /// shared-group members and broker registrations (dead brokers' sessions).
    func startCluster(brokerID: Int) async throws {
        startRetainedTail()
        let (records, revision) = try await sessionStore.all()
        let now = Self.nowMillis()
        for (record, _) in records where record.owner?.broker == brokerID {
            let clientIdentifier = record.state.clientIdentifier
            let outcome = try await sessionStore.update(clientIdentifier) { current in
                guard var current, current.owner?.broker == brokerID, current.connected else { return .keep }
                current.connected = false
                current.disconnectedAtMillis = now
                return current.resumable ? .write(current) : (current.will == nil ? .delete : .write(current))
            }
            var settled = record
            if case .write(let written) = outcome.applied { settled = written }
            if case .delete = outcome.applied { continue }
            guard !settled.connected, let epoch = settled.owner?.epoch else { continue }
            if let will = settled.will, let due = settled.willDueMillis {
                armClaimedWill(clientIdentifier, will: will, epoch: epoch, dueMillis: due)
            }
            if settled.resumable {
                state.withLockedValue { _ = $0.stored.insert(clientIdentifier) }
                if let remaining = settled.remainingMillis(nowMillis: now) { armExpiry(clientIdentifier, in: remaining) }
            }
        }
        startSessionWatch(after: revision)
        let shared = try await meta.range(prefix: MQTTClusterKeys.sharedPrefix)
        for keyValue in shared.keyValues { sharedMembershipChanged(key: keyValue.key, present: true) }
        startWatch(prefix: MQTTClusterKeys.sharedPrefix, after: shared.revision, name: "shared") { event in
            self.sharedMembershipChanged(key: event.keyValue.key, present: event.kind == .put)
        }
        let brokers = try await meta.range(prefix: MQTTClusterKeys.brokersPrefix)
        startWatch(prefix: MQTTClusterKeys.brokersPrefix, after: brokers.revision, name: "brokers") { event in
            guard event.kind == .delete else { return }
            if let broker = Int(event.keyValue.key.dropFirst(MQTTClusterKeys.brokersPrefix.count)) { self.previousOwnerGone(broker) }
            self.reapDeadBrokers()
        }
        reapDeadBrokers()
    }

    /// Runs the session reaper for brokers that are no longer registered (any live broker may:
    /// every step is a compare-and-set, so a will is never published twice), and again when the
    /// next pending will or expiry of such a session is due.
    func reapDeadBrokers() {
        guard let brokerID = configuration.brokerID else { return }
        let reaper = MQTTSessionReaper(meta: meta, journal: journal, shardCount: shardMap.count, logger: logger)
        Task {
            do {
                let alive = try await self.liveBrokers().union([brokerID])
                let next = try await reaper.reap(alive: alive)
                if let next {
                    let wait = max(next - Self.nowMillis(), 0) + 50
                    _ = self.eventLoop.scheduleTask(in: .milliseconds(wait)) {
                        if !self.state.withLockedValue({ $0.shuttingDown }) { self.reapDeadBrokers() }
                    }
                }
            } catch {
                self.logger.warning("mqtt session reaper failed", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: Retained

    /// Follows the retained shard from where ``loadRetained()`` stopped, so retained messages
    /// published on other brokers reach this broker's index.
    func startRetainedTail() {
        let task = Task {
            while !Task.isCancelled {
                let position = self.state.withLockedValue { $0.retainedRouted }
                do {
                    try await self.journal.follow(shard: MQTTShardMap.retainedShard, from: position) { records in
                        let messages = records.compactMap { record in (try? MQTTStoredMessage(record: record)).map { (record.offset, $0) } }
                        self.state.withLockedValue { state in
                            for (offset, message) in messages { state.retained.apply(message, offset: offset) }
                            if let last = records.last?.offset { state.retainedRouted = max(state.retainedRouted, last + 1) }
                        }
                    }
                } catch {
                    if Task.isCancelled { break }
                    self.logger.warning("mqtt retained tail failed; following again", metadata: ["error": "\(error)"])
                    try? await Task.sleep(nanoseconds: 200_000_000)
                }
            }
        }
        state.withLockedValue { $0.tails.append(task) }
    }

    // MARK: Shared subscriptions

    /// The key of a shared group in ``State/sharedBrokers``.
    static func sharedGroupKey(group: String, filter: String) -> String { group + "\u{0}" + filter }

    /// Whether this broker delivers shard `shard`'s messages to its members of a shared group:
    /// the group's shards are spread over its member brokers (shard modulo member count, in
    /// broker id order). Standalone, and until the membership is known, always.
    func takesShared(shard: Int, members: [Int]?) -> Bool {
        guard let brokerID = configuration.brokerID, let members, !members.isEmpty else { return true }
        return members[shard % members.count] == brokerID
    }

    /// The shared-group key of a `$share/…` or `$queue/…` filter (`nil` for a plain filter).
    static func sharedGroupKey(ofFilter filter: String) -> String? {
        guard case .shared(let group, let inner, _)? = SubscriptionIndex.placement(of: filter) else { return nil }
        return sharedGroupKey(group: group, filter: inner)
    }

    /// Records that `clientIdentifier` joined (or left) the shared groups among `filters`.
    static func noteShared(_ filters: [String], clientIdentifier: String, joined: Bool, in state: inout State) {
        for filter in filters {
            guard let key = sharedGroupKey(ofFilter: filter) else { continue }
            if joined {
                state.sharedLocal[key, default: []].insert(clientIdentifier)
            } else {
                state.sharedLocal[key]?.remove(clientIdentifier)
                if state.sharedLocal[key]?.isEmpty == true { state.sharedLocal[key] = nil }
            }
        }
    }

    /// Records that `clientIdentifier` left every shared group.
    static func forgetShared(clientIdentifier: String, in state: inout State) {
        for key in Array(state.sharedLocal.keys) {
            state.sharedLocal[key]?.remove(clientIdentifier)
            if state.sharedLocal[key]?.isEmpty == true { state.sharedLocal[key] = nil }
        }
    }

    /// A member broker registered or left a shared group (`/mqtt/shared/<group>\u{1}<filter>/<id>`).
    func sharedMembershipChanged(key: String, present: Bool) {
        let rest = key.dropFirst(MQTTClusterKeys.sharedPrefix.count)
        guard let slash = rest.lastIndex(of: "/"), let broker = Int(rest[rest.index(after: slash)...]) else { return }
        let parts = rest[..<slash].split(separator: "\u{1}", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return }
        let groupKey = Self.sharedGroupKey(group: String(parts[0]), filter: String(parts[1]))
        state.withLockedValue { state in
            var members = state.sharedBrokers[groupKey] ?? []
            members.removeAll { $0 == broker }
            if present { members.append(broker) }
            members.sort()
            state.sharedBrokers[groupKey] = members.isEmpty ? nil : members
        }
    }

    /// Cluster: registers this broker as a member of the shared groups it now has local members
    /// of, and leaves the groups it has none of any more (keys held by the broker's lease).
    func syncSharedMemberships() {
        guard let brokerID = configuration.brokerID else { return }
        let (join, leave, lease) = state.withLockedValue { state -> ([String], [String], UInt64) in
            let local = Set(state.sharedLocal.keys)
            let join = local.subtracting(state.sharedRegistered)
            let leave = state.sharedRegistered.subtracting(local)
            state.sharedRegistered = local
            return (Array(join), Array(leave), state.clusterLease)
        }
        guard !join.isEmpty || !leave.isEmpty else { return }
        Task {
            for groupKey in join {
                _ = try? await self.meta.put(Self.sharedMetaKey(groupKey, broker: brokerID), [], lease: lease)
            }
            for groupKey in leave {
                _ = try? await self.meta.delete(Self.sharedMetaKey(groupKey, broker: brokerID))
            }
        }
    }

    /// The meta key of a broker's membership of a shared group.
    static func sharedMetaKey(_ groupKey: String, broker: Int) -> String {
        MQTTClusterKeys.sharedPrefix + groupKey.replacingOccurrences(of: "\u{0}", with: "\u{1}") + "/\(broker)"
    }

    /// Cluster: the broker's registration lease changed (first grant or re-registration): the
    /// shared-group memberships it holds are written again under it.
    public func clusterLeaseGranted(_ lease: UInt64) {
        guard let brokerID = configuration.brokerID else { return }
        let groups = state.withLockedValue { state -> Set<String> in
            state.clusterLease = lease
            return state.sharedRegistered
        }
        Task {
            for groupKey in groups {
                _ = try? await self.meta.put(Self.sharedMetaKey(groupKey, broker: brokerID), [], lease: lease)
            }
        }
    }
}
