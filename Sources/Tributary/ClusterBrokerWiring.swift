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
import Synchronization

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

    /// The meta key naming the journal node every broker uses (until shards are replicated).
    static let journalChoiceKey = "/mqtt/journal-node"

    /// The address of the journal node the brokers use. The first broker records its choice —
    /// the registered journal node (`/nodes/journal/<id>`) with the lowest id — under
    /// ``journalChoiceKey`` by compare-and-set, so every broker follows the same shards even when
    /// they start while journal nodes are still registering. Waits up to `timeout` for the chosen
    /// node to be registered; then fails naming the problem.
    static func locateJournal(meta: MetaClient, timeout: Duration, logger: Logger) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var lastProblem = "no journal node is registered under /nodes/journal/"
        var warned = false
        while ContinuousClock.now < deadline {
            do {
                let range = try await meta.range(prefix: "/nodes/journal/")
                var nodes: [Int: String] = [:]
                for keyValue in range.keyValues {
                    guard let id = Int(keyValue.key.dropFirst("/nodes/journal/".count)),
                        let address = String(validating: keyValue.value, as: UTF8.self), RPCEndpoint(address) != nil
                    else { continue }
                    nodes[id] = address
                }
                var chosen = try await meta.get(journalChoiceKey).keyValue.flatMap { Int(String(decoding: $0.value, as: UTF8.self)) }
                if chosen == nil, let lowest = nodes.keys.min() {
                    switch try await meta.compareAndSet(journalChoiceKey, expect: .absent, value: Array(String(lowest).utf8)) {
                    case .compareFailed(_, let current?):
                        chosen = Int(String(decoding: current.value, as: UTF8.self))
                    default:
                        chosen = lowest
                    }
                }
                if let chosen {
                    if let address = nodes[chosen] { return address }
                    lastProblem = "journal node \(chosen) (\(journalChoiceKey)) is not registered under /nodes/journal/"
                }
            } catch {
                lastProblem = "meta unreachable: \(error)"
            }
            if !warned {
                logger.notice("waiting for the journal node to register in meta", metadata: ["problem": "\(lastProblem)"])
                warned = true
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw ValidationError("no journal node found within \(timeout): \(lastProblem)")
    }

    /// A journal client of the node at `address`.
    static func journalClient(address: String, tls: NIOSSLContext?) -> JournalClient {
        var configuration = RPCClientConfiguration(endpoints: RPCEndpoint(address).map { [$0] } ?? [])
        configuration.tls = tls
        return JournalClient(transport: RPCClient(configuration: configuration, logger: Logger(label: "tributary.broker.journal")))
    }
}

/// Keeps this broker registered in meta under `/nodes/broker/<id>` with a lease: grants it,
/// writes the key (value: the MQTT address), renews it every third of its TTL (registering again
/// with a new lease if it was lost, and telling the broker, whose shared-group memberships hang
/// on it), and revokes it on graceful shutdown (after the broker stored its sessions).
struct ClusterBrokerRegistration: Service {
    let client: MetaClient
    let broker: MQTTBroker
    let nodeID: Int
    let address: String
    let ttlMillis: UInt64
    let readiness: NodeReadiness
    let logger: Logger

    var key: String { MQTTClusterKeys.brokersPrefix + "\(nodeID)" }

    func run() async throws {
        let lease = Mutex<UInt64>(0)
        let ttl = Duration.milliseconds(Int64(ttlMillis))
        await cancelWhenGracefulShutdown {
            var lastRenewal = ContinuousClock.now
            while !Task.isCancelled {
                let current = lease.withLock { $0 }
                do {
                    if current == 0 {
                        let granted = try await client.grantLease(ttlMillis: ttlMillis).id
                        _ = try await client.put(key, Array(address.utf8), lease: granted)
                        lease.withLock { $0 = granted }
                        lastRenewal = ContinuousClock.now
                        broker.clusterLeaseGranted(granted)
                        readiness.set("broker-registration", ready: true)
                        logger.info("registered in meta", metadata: ["key": "\(key)", "lease": "\(granted)"])
                    } else {
                        _ = try await client.keepAlive(lease: current)
                        lastRenewal = ContinuousClock.now
                    }
                } catch {
                    if !Task.isCancelled {
                        logger.warning("meta registration failed; retrying", metadata: ["error": "\(error)"])
                        let expired = (error as? RPCError)?.code == .notFound || ContinuousClock.now - lastRenewal >= ttl
                        if current != 0 && expired {
                            lease.withLock { $0 = 0 }
                            readiness.set("broker-registration", ready: false)
                        }
                    }
                }
                try? await Task.sleep(for: ttl / 3)
            }
        }
        let last = lease.withLock { $0 }
        if last != 0 { _ = try? await client.revokeLease(last) }
    }
}
