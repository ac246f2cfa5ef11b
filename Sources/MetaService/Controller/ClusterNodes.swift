import Foundation
import Logging
import NIOConcurrencyHelpers
import Shared

/// The live nodes of the cluster, per role, as the `/nodes/` registrations in meta say: fed by
/// a meta watch (no polling) while this meta node leads, and given to every controller task in
/// its ``MetaControllerContext``.
///
/// ``events()`` is an `AsyncSequence` of ``NodeEvent``s that starts with a `.joined` for every
/// node live at subscription time, so a task that subscribes sees every node exactly once
/// before any later change.
public final class ClusterNodes: Sendable {
    private struct State {
        var nodes: [String: NodeRecord] = [:]
        var subscribers: [UUID: AsyncStream<NodeEvent>.Continuation] = [:]
        var finished = false
    }

    private let state = NIOLockedValueBox(State())

    /// Creates an empty view (fed by the controller).
    public init() {}

    /// Every live node, sorted by role then id.
    public var all: [NodeRecord] {
        state.withLockedValue { Array($0.nodes.values) }.sorted { ($0.role, $0.id) < ($1.role, $1.id) }
    }

    /// The live nodes of `role`, sorted by id.
    public func live(role: String) -> [NodeRecord] {
        all.filter { $0.role == role }
    }

    /// The live node `id` of `role`, if registered.
    public func node(role: String, id: UInt64) -> NodeRecord? {
        state.withLockedValue { $0.nodes[NodeRecord.key(role: role, id: id)] }
    }

    /// Node changes from now on, preceded by a `.joined` for each node live now. Ends when the
    /// view stops (leadership lost or the controller shut down) or the consumer stops iterating.
    public func events() -> AsyncStream<NodeEvent> {
        let (stream, continuation) = AsyncStream<NodeEvent>.makeStream(bufferingPolicy: .unbounded)
        let id = UUID()
        let current: [NodeRecord]? = state.withLockedValue { state in
            guard !state.finished else { return nil }
            state.subscribers[id] = continuation
            // Yield under the lock so no later change can overtake the initial snapshot.
            let current = state.nodes.values.sorted { ($0.role, $0.id) < ($1.role, $1.id) }
            for record in current { continuation.yield(.joined(record)) }
            return current
        }
        if current == nil { continuation.finish(); return stream }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLockedValue { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    // MARK: Feeding (by the controller)

    /// Replaces the whole set with `records` (an initial or re-synchronising range read),
    /// reporting the differences.
    func reset(to records: [NodeRecord]) {
        state.withLockedValue { state in
            var next: [String: NodeRecord] = [:]
            for record in records { next[record.key] = record }
            for (key, old) in state.nodes where next[key] == nil {
                Self.publish(.died(old), to: state)
            }
            for (key, new) in next.sorted(by: { $0.key < $1.key }) where state.nodes[key] != new {
                Self.publish(.joined(new), to: state)
            }
            state.nodes = next
        }
    }

    /// Applies one watched change of the `/nodes/` prefix.
    func apply(_ event: WatchEvent, logger: Logger) {
        let key = event.keyValue.key
        switch event.kind {
        case .put:
            let record: NodeRecord
            do {
                record = try NodeRecord(keyValue: event.keyValue)
            } catch {
                logger.warning("a node registration does not decode; ignored", metadata: ["key": "\(key)", "error": "\(error)"])
                return
            }
            state.withLockedValue { state in
                guard state.nodes[key] != record else { return }
                state.nodes[key] = record
                Self.publish(.joined(record), to: state)
            }
        case .delete:
            state.withLockedValue { state in
                guard let old = state.nodes.removeValue(forKey: key) else { return }
                Self.publish(.died(old), to: state)
            }
        }
    }

    /// Ends every subscription; the view takes no more changes.
    func finish() {
        let subscribers = state.withLockedValue { state in
            state.finished = true
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for continuation in subscribers { continuation.finish() }
    }

    private static func publish(_ event: NodeEvent, to state: State) {
        guard !state.finished else { return }
        for continuation in state.subscribers.values { continuation.yield(event) }
    }

    /// Decodes the registrations in a range read, skipping (and logging) malformed ones.
    static func records(_ keyValues: [MetaKeyValue], logger: Logger) -> [NodeRecord] {
        keyValues.compactMap { keyValue in
            do {
                return try NodeRecord(keyValue: keyValue)
            } catch {
                logger.warning("a node registration does not decode; ignored", metadata: ["key": "\(keyValue.key)", "error": "\(error)"])
                return nil
            }
        }
    }
}
