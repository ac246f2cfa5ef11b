import Logging
import NIOCore
import NIOPosix
@testable import Shared

/// Which transport a behavioural test runs against.
enum TransportKind: String, CaseIterable, CustomStringConvertible, Sendable {
    case inProcess
    case loopback

    var description: String { self.rawValue }
}

/// A router with ``TestAPI`` served over the chosen transport.
final class RPCTestHarness: Sendable {
    let probe: TestProbe
    let transport: any RPCTransport
    let server: RPCServer?
    let client: RPCClient?

    private init(probe: TestProbe, transport: any RPCTransport, server: RPCServer?, client: RPCClient?) {
        self.probe = probe
        self.transport = transport
        self.server = server
        self.client = client
    }

    static func make(_ kind: TransportKind, connections: Int = 1, shutdownGracePeriod: TimeAmount = .seconds(5)) async throws -> RPCTestHarness {
        let probe = TestProbe()
        let router = TestAPI.router(probe: probe)
        switch kind {
        case .inProcess:
            return RPCTestHarness(probe: probe, transport: InProcessTransport(router: router, logger: testLogger), server: nil, client: nil)
        case .loopback:
            let server = RPCServer(
                configuration: .init(host: "127.0.0.1", port: 0, shutdownGracePeriod: shutdownGracePeriod),
                router: router,
                logger: testLogger
            )
            let address = try await server.start()
            guard let port = address.port else { throw RPCError(.internal, "no port") }
            let client = RPCClient(endpoints: [RPCEndpoint(host: "127.0.0.1", port: port)], connections: connections, logger: testLogger)
            return RPCTestHarness(probe: probe, transport: client, server: server, client: client)
        }
    }

    /// Runs `body` against a fresh harness and shuts it down afterwards, even when `body` throws.
    static func with<T>(
        _ kind: TransportKind,
        connections: Int = 1,
        shutdownGracePeriod: TimeAmount = .seconds(5),
        _ body: (RPCTestHarness) async throws -> T
    ) async throws -> T {
        let harness = try await Self.make(kind, connections: connections, shutdownGracePeriod: shutdownGracePeriod)
        do {
            let result = try await body(harness)
            await harness.shutdown()
            return result
        } catch {
            await harness.shutdown()
            throw error
        }
    }

    func shutdown() async {
        await self.client?.shutdown()
        await self.server?.shutdown()
    }
}
