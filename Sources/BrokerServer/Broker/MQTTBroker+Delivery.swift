import JournalServer
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

extension MQTTBroker {
    /// Follows message shard `shard` from `offset` and routes every committed batch; restarts
    /// after a failure from where it stopped.
    func startTail(shard: Int, from offset: Int64) {
        let name = MQTTShardMap.name(of: shard)
        let task = Task {
            while !Task.isCancelled {
                let position = self.state.withLockedValue { $0.routed[shard] }
                do {
                    try await self.journal.follow(shard: name, from: position) { records in
                        self.route(records, shard: shard)
                    }
                } catch {
                    if Task.isCancelled { break }
                    self.logger.warning("mqtt tail failed; following again", metadata: ["shard": "\(name)", "error": "\(error)"])
                    try? await Task.sleep(nanoseconds: 200_000_000)
                }
            }
        }
        state.withLockedValue { $0.tails.append(task) }
    }

    /// Routes a committed batch of shard `shard` through the subscription index to the live
    /// sessions: one hop per connection per batch.
    func route(_ records: [Record], shard: Int) {
        let nowMillis = Self.nowMillis()
        let monotonic = Self.monotonicNow()
        var messages: [(offset: Int64, message: MQTTStoredMessage)] = []
        messages.reserveCapacity(records.count)
        for record in records {
            do {
                messages.append((record.offset, try MQTTStoredMessage(record: record)))
            } catch {
                logger.warning("mqtt record skipped", metadata: ["shard": "\(shard)", "offset": "\(record.offset)", "error": "\(error)"])
            }
        }
        guard let last = records.last?.offset else { return }
        let batches = state.withLockedValue { state -> [(MQTTConnectionRef, [MQTTDelivery])] in
            guard last >= state.routed[shard] else { return [] }
            var byConnection: [UInt64: (MQTTConnectionRef, [MQTTDelivery])] = [:]
            func add(_ clientIdentifier: String, _ delivery: MQTTDelivery) {
                guard let ref = state.connections[clientIdentifier] else { return }
                byConnection[ref.id, default: (ref, [])].1.append(delivery)
            }
            for (offset, message) in messages where offset >= state.routed[shard] {
                let match = state.index.match(topic: message.topic, publisher: message.publisherClientIdentifier)
                guard !match.subscribers.isEmpty || !match.sharedGroups.isEmpty else { continue }
                var base = Self.delivery(of: message, monotonicNow: monotonic, nowMillis: nowMillis)
                base.journalPosition = MQTTJournalPosition(shard: shard, offset: offset)
                for subscriber in match.subscribers {
                    var delivery = base
                    delivery.subscriptionQoS = subscriber.qos
                    delivery.subscriptionIdentifiers = subscriber.subscriptionIdentifiers
                    delivery.retainAsPublished = subscriber.retainAsPublished
                    add(subscriber.clientIdentifier, delivery)
                }
                for group in match.sharedGroups {
                    // One member per message, taking turns among the connected members; in a
                    // cluster only on the member broker that takes this shard of the group.
                    let key = Self.sharedGroupKey(group: group.group, filter: group.topicFilter)
                    guard takesShared(shard: shard, members: state.sharedBrokers[key]) else { continue }
                    let members = group.members.filter { state.connections[$0.clientIdentifier] != nil }
                    guard !members.isEmpty else { continue }
                    let turn = state.sharedTurn[key, default: 0]
                    state.sharedTurn[key] = turn &+ 1
                    let member = members[turn % members.count]
                    if member.subscription.noLocal && member.clientIdentifier == message.publisherClientIdentifier { continue }
                    var delivery = base
                    delivery.subscriptionQoS = member.subscription.qos
                    delivery.subscriptionIdentifiers = member.subscriptionIdentifier.map { [$0] } ?? []
                    delivery.retainAsPublished = member.subscription.retainAsPublished
                    delivery.journalPosition = nil  // not replayed: another member may take it
                    add(member.clientIdentifier, delivery)
                }
            }
            state.routed[shard] = last + 1
            for id in byConnection.keys { state.sentThrough[id, default: [:]][shard] = last }
            return Array(byConnection.values)
        }
        for (ref, deliveries) in batches {
            ref.execute { $0.deliver(deliveries, shard: shard, through: last) }
        }
    }

    /// Reads shard `shard` from `offset` up to (not including) `end` for a resuming session,
    /// keeping the records `filters` match; hands each chunk to `deliver` on `eventLoop` in order,
    /// then calls `done`.
    func replay(
        shard: Int, from offset: Int64, to end: Int64, clientIdentifier: String, subscriptions: [MQTTSessionState.Subscription],
        on ref: MQTTConnectionRef
    ) {
        var index = SubscriptionIndex()
        for stored in subscriptions {
            guard case .plain? = SubscriptionIndex.placement(of: stored.subscription.topicFilter) else { continue }
            index.insert(
                SubscriptionIndex.Entry(
                    clientIdentifier: clientIdentifier, subscription: stored.subscription,
                    subscriptionIdentifier: stored.subscriptionIdentifier))
        }
        let matcher = index
        let name = MQTTShardMap.name(of: shard)
        Task {
            var position = offset
            do {
                while position < end {
                    let read = try await journal.readRecords(shard: name, from: position, maxBytes: 1 << 20)
                    let nowMillis = Self.nowMillis()
                    let monotonic = Self.monotonicNow()
                    var deliveries: [MQTTDelivery] = []
                    var reached = position
                    for record in read.records where record.offset >= position && record.offset < end {
                        reached = record.offset + 1
                        guard let message = try? MQTTStoredMessage(record: record),
                            let subscriber = matcher.match(topic: message.topic, publisher: message.publisherClientIdentifier)
                                .subscribers.first
                        else { continue }
                        var delivery = Self.delivery(of: message, monotonicNow: monotonic, nowMillis: nowMillis)
                        delivery.subscriptionQoS = subscriber.qos
                        delivery.subscriptionIdentifiers = subscriber.subscriptionIdentifiers
                        delivery.retainAsPublished = subscriber.retainAsPublished
                        delivery.journalPosition = MQTTJournalPosition(shard: shard, offset: record.offset)
                        deliveries.append(delivery)
                    }
                    if reached == position {
                        // Nothing at or after the position below `end` (retention removed it, or the
                        // shard is shorter than expected): the replay is complete.
                        break
                    }
                    position = reached
                    let chunk = deliveries
                    let through = reached - 1
                    ref.execute { $0.replayed(chunk, shard: shard, through: through) }
                }
            } catch {
                self.logger.warning("mqtt session replay failed", metadata: ["client": "\(clientIdentifier)", "shard": "\(name)", "error": "\(error)"])
            }
            ref.execute { $0.replayFinished(shard: shard) }
        }
    }
}
