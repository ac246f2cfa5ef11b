import ArgumentParser
import BrokerServer
import Foundation
import JournalServer
import Logging
import MetaService
import NIOCore
import NIOSSL
import ServiceLifecycle
import Shared

/// Wires a stateless broker of a cluster (`tributary broker`): its meta client, the journal it
/// finds through meta, and its registration under `/nodes/broker/<id>`.
enum ClusterBrokerWiring {
    /// A meta client of the members at `addresses` over RPC sockets.
    static func metaClient(addresses: [String], tls: NIOSSLContext?, label: String) -> MetaClient {
        MetaClient(addresses: addresses, options: MetaClient.Options(timeout: .seconds(20))) { address in
            var configuration = RPCClientConfiguration(endpoints: RPCEndpoint(address).map { [$0] } ?? [])
            configuration.tls = tls
            return RPCClient(configuration: configuration, logger: Logger(label: label))
        }
    }

    /// Waits up to `timeout` until at least one journal node is registered under
    /// `/nodes/journal/`; then fails naming the problem.
    static func awaitJournalNodes(meta: MetaClient, timeout: Duration, logger: Logger) async throws {
        let deadline = ContinuousClock.now + timeout
        var lastProblem = "no journal node is registered under /nodes/journal/"
        var warned = false
        while ContinuousClock.now < deadline {
            do {
                if try await !meta.range(prefix: NodeRecord.keyPrefix + "journal/").keyValues.isEmpty { return }
            } catch {
                lastProblem = "meta unreachable: \(error)"
            }
            if !warned {
                logger.notice("waiting for a journal node to register in meta", metadata: ["problem": "\(lastProblem)"])
                warned = true
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw ValidationError("no journal node found within \(timeout): \(lastProblem)")
    }

    /// A client of the journal cluster: shards resolved through meta (`/journal/shards/`,
    /// `/nodes/journal/`), appends to each shard's active segment leader, reads and tails from
    /// its replicas, retried across failovers.
    static func journalClient(meta: MetaClient, tls: NIOSSLContext?) -> JournalClusterClient {
        JournalClusterClient(meta: meta, logger: Logger(label: "tributary.broker.journal")) { address in
            var configuration = RPCClientConfiguration(endpoints: RPCEndpoint(address).map { [$0] } ?? [])
            configuration.tls = tls
            return RPCClient(configuration: configuration, logger: Logger(label: "tributary.broker.journal"))
        }
    }
}

/// Keeps this broker registered in meta under `/nodes/broker/<id>` (a ``NodeRecord`` with its MQTT
/// address) with a lease (``NodeRegistration``: renewed every third of its TTL, registered again
/// if it was lost, revoked on graceful shutdown after the broker stored its clients' sessions),
/// and hands each new lease to the broker, whose shared-group memberships hang on it.
struct ClusterBrokerRegistration: Service {
    let client: MetaClient
    let broker: MQTTBroker
    let nodeID: Int
    let address: String
    let ttlMillis: UInt64
    let readiness: NodeReadiness
    let logger: Logger

    func run() async throws {
        let record = NodeRecord(
            role: "broker", id: UInt64(max(nodeID, 0)), address: address, startedAtMillis: NodeRegistration.nowMillis())
        let registration = NodeRegistration(client: client, record: record, ttlMillis: ttlMillis, logger: logger)
        let (client, broker, readiness, logger) = (self.client, self.broker, self.readiness, self.logger)
        await cancelWhenGracefulShutdown {
            await registration.run { registered in
                readiness.set("broker-registration", ready: registered)
                guard registered else { return }
                Task {
                    do {
                        guard let keyValue = try await client.get(record.key).keyValue else { return }
                        broker.clusterLeaseGranted(try NodeRecord(keyValue: keyValue).lease)
                    } catch {
                        logger.warning("broker registration not read back", metadata: ["error": "\(error)"])
                    }
                }
            }
        }
    }
}
