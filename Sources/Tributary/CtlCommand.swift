import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOSSL
import Shared

/// `tributary ctl`: administration of a running node or cluster over the binary RPC.
struct CtlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Administer a running Tributary node or cluster.",
        subcommands: [
            Status.self, Ping.self, CtlMetaCommand.self, CtlKVCommand.self, CtlShardCommand.self, CtlClusterCommand.self,
            CtlUserCommand.self, CtlACLCommand.self, CtlBlacklistCommand.self,
            CtlTenantCommand.self,
        ]
    )

    /// `tributary ctl status`: the node's id, roles, version and uptime.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the status of the node(s) named by --meta.")

        @OptionGroup var connection: CtlConnectionOptions

        func run() async throws {
            try await connection.withEachNode { endpoint, client in
                let status = try await client.call(NodeAPI.status, RPCEmpty(), options: connection.callOptions)
                print("\(endpoint)  node=\(status.nodeID) roles=\(status.roles.isEmpty ? "none" : status.roles.joined(separator: ",")) version=\(status.version) uptime=\(status.uptimeSeconds)s")
            }
        }
    }

    /// `tributary ctl ping`: round trips to the node(s), with their latency.
    struct Ping: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Measure a round trip to the node(s) named by --meta.")

        @OptionGroup var connection: CtlConnectionOptions

        @Option(help: "How many pings to send to each node.")
        var count: Int = 3

        func run() async throws {
            try await connection.withEachNode { endpoint, client in
                for sequence in 1...max(1, count) {
                    let started = ContinuousClock.now
                    _ = try await client.call(NodeAPI.ping, NodePing(payload: ByteBuffer(string: "ping")), options: connection.callOptions)
                    let elapsed = ContinuousClock.now - started
                    print("\(endpoint)  seq=\(sequence) time=\(elapsed.formatted(.units(allowed: [.milliseconds, .microseconds], width: .narrow)))")
                }
            }
        }
    }
}

/// How `ctl` reaches the cluster.
struct CtlConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "Nodes to contact, HOST:PORT,… (default: the local standalone node).")
    var meta: String = "127.0.0.1:9870"

    @Option(name: .long, help: "Seconds to wait for each answer.")
    var timeout: Double = 5

    @Option(name: .long, help: "Configuration file whose rpc.tls.* keys secure the connection.")
    var config: String?

    var callOptions: RPCCallOptions {
        RPCCallOptions(timeout: .milliseconds(Int64(timeout * 1000)))
    }

    func validate() throws {
        for part in meta.split(separator: ",") where RPCEndpoint(String(part)) == nil {
            throw ValidationError("--meta must be HOST:PORT[,HOST:PORT…]; '\(part)' is not")
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    /// Runs `body` against each endpoint in turn; a node that does not answer is reported and
    /// makes the command exit 1 after the others were tried.
    func withEachNode(_ body: (RPCEndpoint, RPCClient) async throws -> Void) async throws {
        var tls: NIOSSLContext?
        if let config {
            do {
                let loaded = try await ConfigLoader(filePath: config, environment: ProcessInfo.processInfo.environment, flags: [:]).load()
                tls = try loaded.rpc.tls.makeClientContext()
            } catch {
                FileHandle.standardError.write(Data("tributary ctl: \(error)\n".utf8))
                throw ExitCode(78)
            }
        }
        var failures = 0
        for endpoint in meta.split(separator: ",").compactMap({ RPCEndpoint(String($0)) }) {
            var configuration = RPCClientConfiguration(endpoints: [endpoint])
            configuration.tls = tls
            let client = RPCClient(configuration: configuration, logger: Logger(label: "tributary.ctl"))
            do {
                try await body(endpoint, client)
            } catch {
                failures += 1
                FileHandle.standardError.write(Data("tributary ctl: \(endpoint): \(error)\n".utf8))
            }
            await client.shutdown()
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
