import NIOCore
import ServiceLifecycle
import Shared

/// Runs a node's ``RPCServer`` in the service group and reports the port it bound.
struct RPCListenerService: Service {
    let server: RPCServer
    let report: StartupReport

    func run() async throws {
        let address = try await server.start()
        report.bound("rpc", port: address.port ?? server.configuration.port)
        try await server.run()
    }
}
