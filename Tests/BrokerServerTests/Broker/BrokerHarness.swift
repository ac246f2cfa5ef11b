import Foundation
import JournalServer
import Logging
import MetaService
import NIOCore
import NIOPosix
import Shared
import Testing

@testable import BrokerServer

/// A broker as standalone runs it, in the test process: a single-voter meta node and a real
/// ShardStore in a temporary directory (both reached through `InProcessTransport`s, as in
/// standalone), the broker and its listener on a free loopback port.
final class BrokerHarness: Sendable {
    struct Options: Sendable {
        var shards = 4
        var sysInterval = 0
        var maximumConnections = 100
        var allowAnonymous = true
        var maximumQueuedMessages = 1000
    }

    let directory: String
    let options: Options
    let port: Int
    let broker: MQTTBroker
    let listener: MQTTListener
    let meta: MetaNode
    let metaClient: MetaClient
    let store: ShardStore
    let threadPool: NIOThreadPool
    let journal: JournalClient

    private init(
        directory: String, options: Options, port: Int, broker: MQTTBroker, listener: MQTTListener, meta: MetaNode,
        metaClient: MetaClient, store: ShardStore, threadPool: NIOThreadPool, journal: JournalClient
    ) {
        self.directory = directory
        self.options = options
        self.port = port
        self.broker = broker
        self.listener = listener
        self.meta = meta
        self.metaClient = metaClient
        self.store = store
        self.threadPool = threadPool
        self.journal = journal
    }

    static func start(
        shards: Int = 4, sysInterval: Int = 0, maximumConnections: Int = 100, allowAnonymous: Bool = true,
        maximumQueuedMessages: Int = 1000
    ) async throws -> BrokerHarness {
        let directory = NSTemporaryDirectory() + "tributary-broker-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let options = Options(
            shards: shards, sysInterval: sysInterval, maximumConnections: maximumConnections, allowAnonymous: allowAnonymous,
            maximumQueuedMessages: maximumQueuedMessages)
        return try await start(directory: directory, options: options)
    }

    private static func start(directory: String, options: Options) async throws -> BrokerHarness {
        let logger = Logger(label: "test.broker")
        let meta = try MetaNode(
            configuration: MetaNode.Configuration(
                id: 1, address: "meta-1", peers: [1: "meta-1"], dataDirectory: directory + "/meta", bootstrap: true,
                tickInterval: .milliseconds(20), snapshotInterval: 10_000),
            eventLoop: MultiThreadedEventLoopGroup.singleton.next(), logger: logger
        ) { _ in InProcessTransport(router: RPCRouter(), logger: logger) }
        var metaRouter = RPCRouter()
        meta.register(into: &metaRouter)
        meta.start()
        let metaTransport = InProcessTransport(router: metaRouter, logger: logger)
        let metaClient = MetaClient(addresses: ["meta-1"], options: MetaClient.Options(timeout: .seconds(30))) { _ in metaTransport }

        let threadPool = NIOThreadPool(numberOfThreads: 2)
        threadPool.start()
        let store = try await ShardStore.open(
            dataDirectory: directory, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, threadPool: threadPool, logger: logger
        ).get()
        var journalRouter = RPCRouter()
        JournalService(store: store).register(into: &journalRouter)
        let journal = JournalClient(transport: InProcessTransport(router: journalRouter, logger: logger))

        let broker = MQTTBroker(
            configuration: MQTTBrokerConfiguration(
                session: MQTTSessionConfiguration(receiveMaximum: UInt16.max, maximumQueuedMessages: options.maximumQueuedMessages),
                maximumConnections: options.maximumConnections, shardCount: options.shards, sysInterval: options.sysInterval,
                allowAnonymous: options.allowAnonymous, tickInterval: .milliseconds(200)),
            journal: journal, meta: metaClient, logger: logger)
        try await broker.start()
        let listener = MQTTListener(configuration: .init(host: "127.0.0.1", port: 0), broker: broker, logger: logger)
        let address = try await listener.start()
        let port = try #require(address.port)
        return BrokerHarness(
            directory: directory, options: options, port: port, broker: broker, listener: listener, meta: meta,
            metaClient: metaClient, store: store, threadPool: threadPool, journal: journal)
    }

    /// Stops everything but keeps the directory.
    func shutdown() async {
        await listener.stop()
        await broker.shutdown()
        try? await store.close().get()
        try? await threadPool.shutdownGracefully()
        await meta.shutdown()
    }

    /// Stops everything and removes the directory.
    func stop() async {
        await shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Stops and starts again on the same directory (a process restart).
    func restart() async throws -> BrokerHarness {
        await shutdown()
        return try await Self.start(directory: directory, options: options)
    }

    /// The messages stored for `topic` in its shard, read back from the journal.
    func storedMessages(topic: String) async throws -> [MQTTStoredMessage] {
        let shard = MQTTShardMap.name(of: MQTTShardMap(count: options.shards).shard(of: topic))
        let read = try await journal.read(shard: shard, from: 0, maxBytes: 1 << 20)
        return read.records.compactMap { try? MQTTStoredMessage(record: $0) }.filter { $0.topic == topic }
    }

    /// Waits until meta holds the session of `clientIdentifier`.
    func waitUntilStored(_ clientIdentifier: String) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if try await metaClient.get(MQTTStoredSession.key(of: clientIdentifier)).keyValue != nil { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("session \(clientIdentifier) was not stored in time")
    }
}
