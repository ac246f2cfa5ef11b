import Logging
import NIOCore
import NIOPosix
import Shared
import Synchronization
import Testing

@testable import MetaService

/// Readiness probes rely on a meta node saying when it knows a leader.
@Suite("MetaNode readiness")
struct MetaNodeReadinessTests {
    final class Reports: Sendable {
        let values = Mutex<[Bool]>([])
        var all: [Bool] { values.withLock { $0 } }
    }

    @Test func aSingleVoterReportsALeaderOnceItHasElectedItself() async throws {
        let directory = ScratchDirectory()
        let node = try MetaNode(
            configuration: MetaNode.Configuration(
                id: 1, address: "node-1", peers: [1: "node-1"], dataDirectory: directory.path, bootstrap: true,
                tickInterval: .milliseconds(20), snapshotInterval: 10_000
            ),
            eventLoop: MultiThreadedEventLoopGroup.singleton.next(),
            logger: Logger(label: "test.meta.readiness")
        ) { _ in InProcessTransport(router: RPCRouter(), logger: Logger(label: "test.unused")) }
        let reports = Reports()
        node.observeLeadership { known in reports.values.withLock { $0.append(known) } }
        #expect(reports.all.isEmpty, "nothing is reported before the node runs")
        node.start()
        let elected = await eventually(timeout: .seconds(20)) { reports.all.last == true }
        #expect(elected, "reports: \(reports.all)")
        #expect(reports.all.filter { $0 }.count == 1, "a change is reported once, not on every ready")
        await node.shutdown()
    }
}
