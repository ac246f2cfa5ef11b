import Foundation
import JournalServer
import Logging
import MetaService
import NIOConcurrencyHelpers

/// The session reaper as a meta controller task: while its meta node leads, settles the sessions
/// of dead brokers (``MQTTSessionReaper``) at start, whenever a broker's registration dies
/// (``ClusterNodes`` events, fed by the controller's watch) and when the next pending will or
/// expiry of such a session is due. So wills of dead brokers' clients fire even when no broker is
/// left. Idempotent: every step is a compare-and-set on the session record, so a new leader (or
/// a broker running the reaper at the same time) never publishes a will twice.
public struct MQTTSessionReaperTask: MetaControllerTask {
    /// The task's name in logs.
    public let name = "mqtt-session-reaper"
    let shardCount: Int
    let makeJournal: @Sendable (MetaClient) -> JournalClusterClient

    /// A reaper over `shardCount` MQTT message shards; `makeJournal` makes the journal cluster
    /// client wills are published through (closed when the task ends).
    public init(shardCount: Int, makeJournal: @escaping @Sendable (MetaClient) -> JournalClusterClient) {
        self.shardCount = shardCount
        self.makeJournal = makeJournal
    }

    /// Reaps until cancelled (leadership lost or shutdown).
    public func run(_ context: MetaControllerContext) async throws {
        let journal = makeJournal(context.client)
        let reaper = MQTTSessionReaper(meta: context.client, journal: journal, shardCount: shardCount, logger: context.logger)
        let nodes = context.nodes
        let events = nodes.events()
        let nextDue = NIOLockedValueBox<Int64?>(nil)
        let reap: @Sendable () async throws -> Void = {
            let alive = Set(nodes.live(role: "broker").map { Int(clamping: $0.id) })
            let next = try await reaper.reap(alive: alive)
            nextDue.withLockedValue { $0 = next }
        }
        do {
            try await reap()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in events {
                        if case .died(let record) = event, record.role == "broker" { try await reap() }
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        let now = Int64(Date().timeIntervalSince1970 * 1000)
                        let due = nextDue.withLockedValue { $0 }
                        if let due, due <= now {
                            try await reap()
                            continue
                        }
                        let wait = min(max((due ?? now + 1000) - now, 10), 1000)
                        try await Task.sleep(for: .milliseconds(wait))
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            await journal.close()
            throw error
        }
        await journal.close()
    }
}
