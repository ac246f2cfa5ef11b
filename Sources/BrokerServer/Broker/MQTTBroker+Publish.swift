import JournalServer
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

extension MQTTBroker {
    /// The topic prefix of delayed publications: `$delayed/{seconds}/{topic}`.
    static let delayedPrefix = "$delayed/"

    /// Publishes an inbound message: authorization, `$delayed/`, then the journal append (and the
    /// retained shard for RETAIN). The future succeeds with the acknowledgement's reason code
    /// once the message is durable: Success, 0x87 not authorized, or 0x80 when the append failed.
    func publish(_ inbound: MQTTInboundMessage, userName: String?, on eventLoop: any EventLoop) -> EventLoopFuture<MQTTReasonCode> {
        count(received: 1)
        guard authorizer.mayPublish(clientIdentifier: inbound.clientIdentifier, userName: userName, topic: inbound.topic) else {
            metrics.droppedNotAuthorized.increment()
            return eventLoop.makeSucceededFuture(.notAuthorized)
        }
        let message = MQTTStoredMessage(
            topic: inbound.topic, payload: inbound.payload, qos: inbound.qos, retain: inbound.retain,
            publisherClientIdentifier: inbound.clientIdentifier, properties: inbound.properties,
            receivedAtMillis: Self.nowMillis())
        if inbound.topic.hasPrefix(Self.delayedPrefix) {
            return publishDelayed(message, on: eventLoop)
        }
        return store(message, on: eventLoop)
    }

    /// Appends `message` to its shard (and to the retained shard when RETAIN is set); the future
    /// succeeds with Success after both are durable, or 0x80.
    func store(_ message: MQTTStoredMessage, on eventLoop: any EventLoop) -> EventLoopFuture<MQTTReasonCode> {
        let record: Record
        do {
            record = try message.record()
        } catch {
            logger.warning("mqtt message not storable", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
            return eventLoop.makeSucceededFuture(.unspecifiedError)
        }
        let shard = MQTTShardMap.name(of: shardMap.shard(of: message.topic))
        var appends = [appender.append(record, to: shard, on: eventLoop).map { _ in () }]
        if message.retain {
            let retained = appender.append(record, to: MQTTShardMap.retainedShard, on: eventLoop).map { offset in
                self.state.withLockedValue { $0.retained.apply(message, offset: offset) }
            }
            appends.append(retained)
        }
        return EventLoopFuture.whenAllSucceed(appends, on: eventLoop).map { _ in MQTTReasonCode.success }
            .recover { error in
                self.metrics.appendFailures.increment()
                self.logger.warning("mqtt journal append failed", metadata: ["shard": "\(shard)", "error": "\(error)"])
                return .unspecifiedError
            }
    }

    /// Rebuilds the retained index from the retained shard.
    func loadRetained() async throws {
        var offset: Int64 = 0
        var retained = MQTTRetainedIndex()
        while true {
            let read = try await journal.readRecords(shard: MQTTShardMap.retainedShard, from: offset, maxBytes: 1 << 20)
            for record in read.records where record.offset >= offset {
                if let message = try? MQTTStoredMessage(record: record) { retained.apply(message, offset: record.offset) }
                offset = record.offset + 1
            }
            if read.records.isEmpty || offset >= read.endOffset { break }
        }
        let loaded = retained
        let reached = offset
        state.withLockedValue { state in
            state.retained = loaded
            state.retainedRouted = reached
        }
    }
}
