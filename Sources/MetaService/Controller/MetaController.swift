import Logging
import NIOConcurrencyHelpers
import NIOCore
import Shared

/// Runs cluster-management tasks on the meta leader.
///
/// One controller runs beside every ``MetaNode``. While its node is the Raft leader it reads the
/// live node registrations (`/nodes/`) into a ``ClusterNodes`` view kept current by a meta
/// watch, then runs every registered ``MetaControllerTask`` in its own Swift `Task` with a
/// ``MetaControllerContext``. When the node stops leading (or shuts down) every task is
/// cancelled; the next gain starts them again. A task that throws is logged and run again after
/// ``restartDelay``.
///
/// The built-in ``NodeHistoryTask`` always runs: it keeps `/cluster/nodes/<role>/<id>` in step
/// with the registrations, so nodes that died stay visible.
///
/// Register tasks before ``start()``; call ``shutdown()`` before the node's own shutdown.
public final class MetaController: Sendable {
    private struct State {
        var tasks: [any MetaControllerTask]
        var leading: Task<Void, Never>?
        var leadingTerm: UInt64 = 0
        var started = false
        var stopped = false
    }

    /// The node this controller runs beside.
    public let node: MetaNode
    /// The in-process client tasks get (bound to ``node``, no socket).
    public let client: MetaClient
    /// Pause before a failed task (or a failed node read) is retried.
    public let restartDelay: Duration
    private let logger: Logger
    private let state: NIOLockedValueBox<State>

    /// Creates the controller of `node` with `tasks` (besides the built-in ``NodeHistoryTask``).
    public init(node: MetaNode, tasks: [any MetaControllerTask] = [], logger: Logger, restartDelay: Duration = .seconds(1)) {
        self.node = node
        self.logger = logger
        self.restartDelay = restartDelay
        var router = RPCRouter()
        node.register(into: &router)
        let transport = InProcessTransport(router: router, group: node.eventLoop, logger: logger)
        self.client = MetaClient(
            addresses: [node.configuration.address],
            options: MetaClient.Options(timeout: .seconds(5), attemptTimeout: .seconds(2), backoff: .milliseconds(100))
        ) { _ in transport }
        self.state = NIOLockedValueBox(State(tasks: [NodeHistoryTask()] + tasks))
    }

    /// Adds a task; it runs from the next leadership gain on (at once if leading and started).
    public func register(_ task: any MetaControllerTask) {
        state.withLockedValue { $0.tasks.append(task) }
    }

    /// The names of the registered tasks, in order.
    public var taskNames: [String] { state.withLockedValue { $0.tasks.map(\.name) } }

    /// Starts following the node's leadership.
    public func start() {
        let first = state.withLockedValue { state -> Bool in
            defer { state.started = true }
            return !state.started
        }
        guard first else { return }
        node.observeRole { [self] isLeader, term in
            self.roleChanged(isLeader: isLeader, term: term)
        }
    }

    /// Cancels the running tasks, waits for them to end, and stops following the node.
    public func shutdown() async {
        let running = state.withLockedValue { state in
            state.stopped = true
            defer { state.leading = nil }
            return state.leading
        }
        running?.cancel()
        await running?.value
        await client.close()
    }

    /// Whether tasks are running now (this node leads); for status and tests.
    public var isLeading: Bool { state.withLockedValue { $0.leading != nil } }

    private func roleChanged(isLeader: Bool, term: UInt64) {
        let (cancelled, started): (Task<Void, Never>?, Bool) = state.withLockedValue { state in
            if isLeader {
                guard !state.stopped, state.leading == nil || state.leadingTerm != term else { return (nil, false) }
                let previous = state.leading
                let tasks = state.tasks
                state.leadingTerm = term
                state.leading = Task { [self] in
                    await previous?.value
                    await self.lead(term: term, tasks: tasks)
                }
                return (previous, true)
            } else {
                defer { state.leading = nil }
                return (state.leading, false)
            }
        }
        cancelled?.cancel()
        if started {
            logger.info("meta leader: starting controller tasks", metadata: ["term": "\(term)"])
        } else if cancelled != nil {
            logger.info("no longer the meta leader: stopping controller tasks", metadata: ["term": "\(term)"])
        }
    }

    /// One leadership term: load the nodes, follow them, run the tasks; until cancelled.
    private func lead(term: UInt64, tasks: [any MetaControllerTask]) async {
        let nodes = ClusterNodes()
        defer { nodes.finish() }
        var termLogger = self.logger
        termLogger[metadataKey: "term"] = "\(term)"
        let logger = termLogger
        guard let revision = await loadNodes(into: nodes, logger: logger) else { return }
        let context = MetaControllerContext(client: client, logger: logger, term: term, nodes: nodes)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.followNodes(into: nodes, after: revision, logger: logger) }
            for task in tasks {
                group.addTask { await self.supervise(task, context: context) }
            }
        }
    }

    /// Reads the registrations into `nodes` (retrying until cancelled); the read's revision.
    private func loadNodes(into nodes: ClusterNodes, logger: Logger) async -> UInt64? {
        while !Task.isCancelled {
            do {
                let response = try await client.range(prefix: NodeRecord.keyPrefix)
                nodes.reset(to: ClusterNodes.records(response.keyValues, logger: logger))
                return response.revision
            } catch {
                guard !Task.isCancelled else { return nil }
                logger.warning("controller: reading the node registrations failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: restartDelay)
            }
        }
        return nil
    }

    /// Applies watched registration changes to `nodes`; re-reads everything when the watch ends.
    private func followNodes(into nodes: ClusterNodes, after revision: UInt64, logger: Logger) async {
        var next = revision + 1
        while !Task.isCancelled {
            let stream = client.watch(prefix: NodeRecord.keyPrefix, fromRevision: next)
            do {
                try await withTaskCancellationHandler {
                    for try await batch in stream {
                        for event in batch.events {
                            nodes.apply(event, logger: logger)
                            next = max(next, event.revision + 1)
                        }
                    }
                } onCancel: {
                    stream.cancel()
                }
            } catch {
                if Task.isCancelled { return }
                logger.info("controller: the node watch ended; re-reading", metadata: ["error": "\(error)"])
            }
            if Task.isCancelled { return }
            try? await Task.sleep(for: restartDelay)
            guard let reloaded = await loadNodes(into: nodes, logger: logger) else { return }
            next = reloaded + 1
        }
    }

    /// Runs `task` until it returns or is cancelled, running it again after a failure.
    private func supervise(_ task: any MetaControllerTask, context: MetaControllerContext) async {
        var taskLogger = context.logger
        taskLogger[metadataKey: "task"] = "\(task.name)"
        let logger = taskLogger
        let scoped = MetaControllerContext(client: context.client, logger: logger, term: context.term, nodes: context.nodes)
        while !Task.isCancelled {
            do {
                try await task.run(scoped)
                return
            } catch {
                if Task.isCancelled { return }
                logger.warning("controller task failed; restarting", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: restartDelay)
            }
        }
    }
}
