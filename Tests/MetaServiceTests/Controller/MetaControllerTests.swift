import Foundation
import Logging
import NIOConcurrencyHelpers
import Shared
import Testing

@testable import MetaService

/// What probe tasks saw: which node ran a task in which term, and which runs ended.
final class ControllerProbe: Sendable {
    struct Run: Equatable, Sendable {
        var node: RaftNodeID
        var term: UInt64
    }

    let started = NIOLockedValueBox<[Run]>([])
    let running = NIOLockedValueBox<[Run]>([])
    let events = NIOLockedValueBox<[NodeEvent]>([])
}

/// Records its runs; stays until cancelled.
struct ProbeTask: MetaControllerTask {
    let node: RaftNodeID
    let probe: ControllerProbe
    var name: String { "probe" }

    func run(_ context: MetaControllerContext) async throws {
        let run = ControllerProbe.Run(node: node, term: context.term)
        probe.started.withLockedValue { $0.append(run) }
        probe.running.withLockedValue { $0.append(run) }
        defer { probe.running.withLockedValue { $0.removeAll { $0 == run } } }
        // The context's client reaches the leader in-process.
        try await context.client.put("probe/leader", Array(String(node).utf8))
        while !Task.isCancelled { try await Task.sleep(for: .seconds(60)) }
    }
}

/// Records every node event it is told.
struct NodeEventRecorder: MetaControllerTask {
    let probe: ControllerProbe
    var name: String { "events" }

    func run(_ context: MetaControllerContext) async throws {
        for await event in context.nodes.events() {
            probe.events.withLockedValue { $0.append(event) }
        }
    }
}

/// A ``MetaTestCluster`` with a ``MetaController`` beside every node.
final class ControlledCluster: @unchecked Sendable {
    let cluster: MetaTestCluster
    var controllers: [RaftNodeID: MetaController] = [:]

    init(tasks: @escaping (RaftNodeID) -> [any MetaControllerTask]) throws {
        cluster = try MetaTestCluster()
        for (id, node) in cluster.nodes {
            let controller = MetaController(node: node, tasks: tasks(id), logger: cluster.logger, restartDelay: .milliseconds(100))
            controller.start()
            controllers[id] = controller
        }
    }

    func stop(_ id: RaftNodeID) async {
        await controllers.removeValue(forKey: id)?.shutdown()
        await cluster.stop(id)
    }

    func shutdown() async {
        for controller in controllers.values { await controller.shutdown() }
        controllers = [:]
        await cluster.shutdown()
    }
}

@Suite("MetaController", .serialized)
struct MetaControllerTests {
    @Test func tasksRunOnlyOnTheLeaderAndMoveWithLeadership() async throws {
        let probe = ControllerProbe()
        let controlled = try ControlledCluster { id in [ProbeTask(node: id, probe: probe)] }
        let cluster = controlled.cluster
        let leader = try #require(try await cluster.awaitLeader())
        #expect(await eventually { probe.running.withLockedValue { $0.map(\.node) } == [leader] })
        let firstTerm = try #require(probe.running.withLockedValue { $0.first?.term })
        // The task wrote through its in-process client.
        let written = try await cluster.client().get("probe/leader").keyValue?.value
        #expect(written == Array(String(leader).utf8))
        // Followers never ran it (only a leader of an earlier term could have).
        #expect(probe.started.withLockedValue { $0.allSatisfy { $0.node == leader || $0.term < firstTerm } })
        #expect(controlled.controllers[leader]?.isLeading == true)

        // Leadership handed over: the old leader's task is cancelled, the new leader's starts.
        let target = try #require(cluster.peers.keys.sorted().first { $0 != leader })
        try await cluster.client().transferLeader(to: target)
        #expect(await eventually { probe.running.withLockedValue { $0.map(\.node) } == [target] })
        #expect(controlled.controllers[leader]?.isLeading == false)

        // The leader stops: the task runs on the next leader, in a later term.
        await controlled.stop(target)
        #expect(await eventually {
            let running = probe.running.withLockedValue { $0 }
            return running.count == 1 && running[0].node != target && running[0].term > firstTerm
        })
        let newLeader = try #require(try await cluster.awaitLeader())
        #expect(probe.running.withLockedValue { $0.map(\.node) } == [newLeader])
        await controlled.shutdown()
        #expect(probe.running.withLockedValue { $0.isEmpty })
    }

    @Test func aNodeWhoseLeaseIsNotKeptAliveDiesAndItsHistoryTurnsDead() async throws {
        let probe = ControllerProbe()
        let controlled = try ControlledCluster { _ in [NodeEventRecorder(probe: probe)] }
        let cluster = controlled.cluster
        _ = try #require(try await cluster.awaitLeader())
        let client = cluster.client()

        // Node journal/7 registers with a short lease and never renews it.
        let lease = try await client.grantLease(ttlMillis: 600).id
        let silent = NodeRecord(role: "journal", id: 7, address: "10.0.0.7:7000", startedAtMillis: 1_700_000_000_000, lease: lease)
        try await client.put(silent.key, silent.encodedBytes, lease: lease)
        // Node broker/8 keeps its registration alive.
        let kept = NodeRecord(role: "broker", id: 8, address: "10.0.0.8:7000", startedAtMillis: 1_700_000_000_001)
        // (3 s: renewals every second survive the starved cooperative pool of a loaded test run; the
        // check below waits 1.5 TTLs, so the node is alive only because it renewed.)
        let registration = NodeRegistration(client: client, record: kept, ttlMillis: 3_000, logger: cluster.logger)
        let keeperStarted = ContinuousClock.now
        let keeper = Task { await registration.run() }

        #expect(await eventually { probe.events.withLockedValue { $0.contains(.joined(silent)) } })
        #expect(await eventually { probe.events.withLockedValue { $0.contains(.died(silent)) } })
        // The history task (another task, so not in step with the events) records the death.
        var dead: NodeHistoryRecord?
        #expect(await eventually {
            let value = try? await client.get(NodeHistoryRecord.key(role: "journal", id: 7)).keyValue?.value
            dead = value.flatMap { try? NodeHistoryRecord(bytes: $0) }
            return dead?.state == .dead
        })
        #expect(dead?.node == silent)
        #expect(try await client.get(silent.key).keyValue == nil)

        // It comes back with a new lease: alive again, with the new registration.
        let second = try await client.grantLease(ttlMillis: 60_000).id
        let back = NodeRecord(role: "journal", id: 7, address: "10.0.0.7:7000", startedAtMillis: 1_700_000_000_500, lease: second)
        try await client.put(back.key, back.encodedBytes, lease: second)
        #expect(await eventually {
            let value = try? await client.get(NodeHistoryRecord.key(role: "journal", id: 7)).keyValue?.value
            let record = value.flatMap { try? NodeHistoryRecord(bytes: $0) }
            return record?.state == .alive && record?.node == back
        })
        #expect(await eventually { probe.events.withLockedValue { $0.last { $0.record.id == 7 } } == .joined(back) })

        // The renewed node outlives its TTL (time must pass for that) and is alive in the history.
        try await Task.sleep(until: keeperStarted + .milliseconds(4_500), clock: .continuous)
        #expect(probe.events.withLockedValue { events in
            events.contains { if case .joined(let record) = $0 { record.role == "broker" && record.id == 8 } else { false } }
                && !events.contains { if case .died(let record) = $0 { record.role == "broker" } else { false } }
        })
        #expect(await eventually {
            let value = try? await client.get(NodeHistoryRecord.key(role: "broker", id: 8)).keyValue?.value
            return value.flatMap { try? NodeHistoryRecord(bytes: $0) }?.state == .alive
        })
        // Cancelling the registration revokes its lease: the node is dead at once, not after a TTL.
        keeper.cancel()
        await keeper.value
        #expect(await eventually(timeout: .milliseconds(2_500)) {
            let value = try? await client.get(NodeHistoryRecord.key(role: "broker", id: 8)).keyValue?.value
            return value.flatMap { try? NodeHistoryRecord(bytes: $0) }?.state == .dead
        })
        await controlled.shutdown()
    }

    @Test func aNewLeaderMarksDeadTheNodesThatDiedWithoutALeader() async throws {
        let controlled = try ControlledCluster { _ in [] }
        let cluster = controlled.cluster
        _ = try #require(try await cluster.awaitLeader())
        let client = cluster.client()
        // A history record says alive, but there is no registration (it vanished unobserved).
        let ghost = NodeRecord(role: "journal", id: 9, address: "10.0.0.9:7000", startedAtMillis: 5, lease: 42)
        try await client.put(NodeHistoryRecord.key(role: "journal", id: 9),
                             NodeHistoryRecord(state: .alive, node: ghost, changedAtMillis: 6).encodedBytes)
        let leader = try #require(try await cluster.awaitLeader())
        await controlled.stop(leader)
        #expect(await eventually {
            let value = try? await client.get(NodeHistoryRecord.key(role: "journal", id: 9)).keyValue?.value
            let record = value.flatMap { try? NodeHistoryRecord(bytes: $0) }
            return record?.state == .dead && record?.node == ghost && (record?.changedAtMillis ?? 0) > 6
        })
        await controlled.shutdown()
    }
}
