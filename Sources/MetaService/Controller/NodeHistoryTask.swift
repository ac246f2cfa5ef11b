import Foundation
import Logging

/// The built-in controller task that keeps `/cluster/nodes/<role>/<id>` (``NodeHistoryRecord``)
/// in step with the live registrations: `alive` (with address, start time, lease) when a node
/// registers, `dead` when its registration disappears. On every leadership gain it first marks
/// dead every node recorded alive that is no longer registered (it may have died while there
/// was no leader). Idempotent: a record already saying the same is not rewritten, so its
/// change time stays that of the real change.
public struct NodeHistoryTask: MetaControllerTask {
    /// `node-history`.
    public var name: String { "node-history" }

    /// Creates the task.
    public init() {}

    /// Reconciles, then follows node events until cancelled.
    public func run(_ context: MetaControllerContext) async throws {
        let events = context.nodes.events()
        let live = Set(context.nodes.all.map { NodeHistoryRecord.key(role: $0.role, id: $0.id) })
        let history = try await context.client.range(prefix: NodeHistoryRecord.keyPrefix)
        for keyValue in history.keyValues where !live.contains(keyValue.key) {
            let record: NodeHistoryRecord
            do {
                record = try NodeHistoryRecord(bytes: keyValue.value)
            } catch {
                context.logger.warning("a node history record does not decode; ignored", metadata: ["key": "\(keyValue.key)", "error": "\(error)"])
                continue
            }
            if record.state == .alive { try await write(.died(record.node), context: context) }
        }
        for await event in events {
            try await write(event, context: context)
        }
    }

    /// Records `event` unless the history already says so.
    func write(_ event: NodeEvent, context: MetaControllerContext) async throws {
        let node = event.record
        let key = NodeHistoryRecord.key(role: node.role, id: node.id)
        let existing = try await context.client.get(key).keyValue.flatMap { try? NodeHistoryRecord(bytes: $0.value) }
        let next: NodeHistoryRecord
        switch event {
        case .joined:
            if let existing, existing.state == .alive, existing.node == node { return }
            next = NodeHistoryRecord(state: .alive, node: node, changedAtMillis: Self.nowMillis())
        case .died:
            if let existing, existing.state == .dead, existing.node.lease == node.lease { return }
            next = NodeHistoryRecord(state: .dead, node: node, changedAtMillis: Self.nowMillis())
        }
        try await context.client.put(key, next.encodedBytes)
        context.logger.info("node \(next.state)", metadata: ["role": "\(node.role)", "id": "\(node.id)", "address": "\(node.address)", "lease": "\(node.lease)"])
    }

    static func nowMillis() -> UInt64 {
        UInt64(max(0, Date().timeIntervalSince1970 * 1000))
    }
}
