import Logging
import MetaService
import Synchronization
import NIOCore
import NIOPosix
import Shared

/// A client of the whole journal cluster: resolves a shard to its ``ShardMetadata`` and its
/// nodes' addresses through meta, sends appends to the active segment's leader, reads from a
/// replica of the segment holding the offset, tails across segment boundaries and nodes, and
/// retries transparently — on `unavailable`, `notLeader`, a per-attempt timeout or a node that
/// does not (or no longer) hold the shard — until the call's deadline (``Options/timeout``).
///
/// The view of the cluster (``JournalClusterView``) is cached and kept current by two meta
/// watches (`/journal/shards/` and `/nodes/journal/`) started by ``start()`` (or the first
/// call); a failed attempt also re-reads the shard's record before the retry.
///
/// A retried append whose first attempt was in fact stored is stored twice (there are no
/// idempotent producers yet); an append that fails was not acknowledged.
public final class JournalClusterClient: Sendable {
    /// Retry settings.
    public struct Options: Sendable {
        /// The total time a call may take, retries included.
        public var timeout: TimeAmount
        /// The longest single attempt against one node.
        public var attemptTimeout: TimeAmount
        /// Pause before a retry.
        public var backoff: TimeAmount

        /// Creates options.
        public init(timeout: TimeAmount = .seconds(15), attemptTimeout: TimeAmount = .seconds(3), backoff: TimeAmount = .milliseconds(50)) {
            self.timeout = timeout
            self.attemptTimeout = attemptTimeout
            self.backoff = backoff
        }
    }

    struct State {
        var view = JournalClusterView()
        var transports: [String: any RPCTransport] = [:]
        var watches: [Task<Void, Never>] = []
        var started = false
        var closed = false
        var observers: [Int: AsyncStream<JournalClusterView>.Continuation] = [:]
        var nextObserver = 0

        /// Tells every observer the view changed.
        func notify() {
            for observer in observers.values { observer.yield(view) }
        }
    }

    /// The meta cluster the shard records and node registrations are read from.
    public let meta: MetaClient
    /// Retry settings.
    public let options: Options
    let connect: @Sendable (String) -> any RPCTransport
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    let state = Mutex(State())

    /// Creates a client. `connect` makes a transport to a journal node's RPC address (an
    /// ``RPCClient``; it is shut down by ``close()`` when it is one).
    public init(
        meta: MetaClient, options: Options = Options(), eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger, connect: @escaping @Sendable (String) -> any RPCTransport
    ) {
        self.meta = meta
        self.options = options
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.connect = connect
    }

    /// The current cached view of shards and nodes.
    public var view: JournalClusterView { state.withLock { $0.view } }

    // MARK: Shards

    /// Creates a shard (idempotent with the same settings) and describes it. A new shard is
    /// created on the least loaded live journal node (``SegmentPlacementPlanner``), which records
    /// it in meta; an existing one is described by its active segment's leader.
    public func createShard(_ shard: String, settings: ShardSettings = ShardSettings()) async throws -> ShardDescription {
        if settings.replicationFactor > 1 {
            try await requestReplicatedShard(shard, settings: settings)
            return try await describeShard(shard)
        }
        return try await retrying("create shard '\(shard)'", shard: shard, allowMissing: true) { view in
            if view.shards[shard] != nil { return view.appendTargets(shard: shard) }
            let planner = SegmentPlacementPlanner(liveNodes: view.nodes.keys, shards: view.shards.values)
            return planner.place(replicationFactor: 1)
        } body: { client, options in
            try await client.createShard(shard, settings: settings, options: options)
        }
    }

    /// Records a replicated shard as pending in meta (compare-and-set on absence, so a
    /// repeated create keeps the first record); the segment controller places its first segment
    /// and the nodes open their replicas. An existing shard with other settings fails with
    /// `alreadyExists`.
    public func requestReplicatedShard(_ shard: String, settings: ShardSettings) async throws {
        do {
            try ShardStoreError.validate(shardName: shard)
        } catch {
            throw RPCError(.invalidArgument, "\(error)")
        }
        _ = try await MetaShardCatalog(client: meta, nodeID: 0).shardRequested(shard, settings: settings)
        _ = try await refresh(shard: shard)
    }

    /// The view now and after every change the watches deliver (the newest when the consumer
    /// is slower), until ``close()``.
    public func changes() -> AsyncStream<JournalClusterView> {
        start()
        let (stream, continuation) = AsyncStream.makeStream(of: JournalClusterView.self, bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state -> Int? in
            guard !state.closed else { return nil }
            let id = state.nextObserver
            state.nextObserver += 1
            state.observers[id] = continuation
            continuation.yield(state.view)
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.observers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Deletes a shard on the leader of its active segment (which removes its meta record).
    public func deleteShard(_ shard: String) async throws {
        try await retrying("delete shard '\(shard)'", shard: shard) { $0.appendTargets(shard: shard) } body: { client, options in
            try await client.deleteShard(shard, options: options)
        }
    }

    /// The shard names recorded in meta, sorted.
    public func listShards() async throws -> [String] {
        let range = try await meta.range(prefix: ShardMetadata.keyPrefix)
        return range.keyValues.compactMap { JournalClusterView.shardName(key: $0.key) }.sorted()
    }

    /// The shard's record in meta (segments, replica sets, leaders, epochs), read now.
    public func metadata(shard: String) async throws -> ShardMetadata {
        guard let record = try await refresh(shard: shard) else { throw RPCError(.notFound, "unknown shard '\(shard)'") }
        return record
    }

    /// Describes the shard as its active segment's leader sees it (offsets, state, local
    /// segments, meta record).
    public func describeShard(_ shard: String) async throws -> ShardDescription {
        try await retrying("describe shard '\(shard)'", shard: shard) { $0.readTargets(shard: shard, offset: nil) } body: { client, options in
            try await client.describeShard(shard, options: options)
        }
    }

    // MARK: Appends and reads

    /// Appends records as one batch to the active segment's leader and returns once they are
    /// acknowledged (durable per the shard's policy); retried on another leader if it moved.
    public func append(shard: String, records: [Record]) async throws -> JournalAppendResponse {
        try await retrying("append to '\(shard)'", shard: shard) { $0.appendTargets(shard: shard) } body: { client, options in
            try await client.append(shard: shard, records: records, options: options)
        }
    }

    /// ``append(shard:records:)`` as a future (the broker's hot path): when the leader is known
    /// the first attempt is one RPC with no `Task`; only a retry goes through the async path.
    public func appendFuture(shard: String, records: [Record]) -> EventLoopFuture<JournalAppendResponse> {
        let cached: String? = state.withLock { state in
            state.view.appendTargets(shard: shard).first.flatMap { state.view.nodes[$0] }
        }
        guard let address = cached else {
            return eventLoopGroup.any().makeFutureWithTask { try await self.append(shard: shard, records: records) }
        }
        let attempt = RPCCallOptions(timeout: options.attemptTimeout)
        return JournalClient(transport: transport(for: address)).appendFuture(shard: shard, records: records, options: attempt)
            .flatMapError { error in
                guard Self.isRetryable(error) else { return self.eventLoopGroup.any().makeFailedFuture(error) }
                return self.eventLoopGroup.any().makeFutureWithTask { try await self.append(shard: shard, records: records) }
            }
    }

    /// Reads acknowledged records from `offset`, from a replica of the segment holding it.
    public func read(shard: String, from offset: Int64, maxBytes: Int = 1 << 20) async throws -> ShardReadResult {
        try await retrying("read '\(shard)'", shard: shard) { $0.readTargets(shard: shard, offset: offset) } body: { client, options in
            try await client.read(shard: shard, from: offset, maxBytes: maxBytes, options: options)
        }
    }

    /// Reads acknowledged records from the first one at or after `timestamp` (ms since the epoch).
    public func read(shard: String, fromTimestamp timestamp: Int64, maxBytes: Int = 1 << 20) async throws -> ShardReadResult {
        try await retrying("read '\(shard)'", shard: shard) { $0.readTargets(shard: shard, offset: nil) } body: { client, options in
            try await client.read(shard: shard, fromTimestamp: timestamp, maxBytes: maxBytes, options: options)
        }
    }

    /// Tails a shard from `fromOffset` (`nil`: only new records) with the record-key `filters`
    /// (empty: all): a stream that moves to another replica or the next segment's nodes when
    /// its node fails or the segment is sealed, resuming after the last delivered offset.
    public func tail(shard: String, from fromOffset: Int64?, filters: [String] = []) -> JournalClusterTail {
        JournalClusterTail(client: self, shard: shard, from: fromOffset, filters: filters)
    }

    // MARK: Lifecycle

    /// Stops the watches and shuts down every node connection this client opened.
    public func close() async {
        let (watches, transports) = state.withLock { state in
            state.closed = true
            defer {
                state.watches = []
                state.transports = [:]
            }
            return (state.watches, Array(state.transports.values))
        }
        for watch in watches { watch.cancel() }
        for watch in watches { await watch.value }
        let observers = state.withLock { state in
            defer { state.observers = [:] }
            return Array(state.observers.values)
        }
        for observer in observers { observer.finish() }
        for transport in transports {
            if let client = transport as? RPCClient { await client.shutdown() }
        }
    }

    // MARK: Retry machinery

    /// Whether a failed attempt may succeed on another node or after the view changed.
    static func isRetryable(_ error: any Error) -> Bool {
        guard let rpc = error as? RPCError else { return false }
        switch rpc.code {
        case .unavailable, .notLeader, .deadlineExceeded, .notFound: return true
        default: return false
        }
    }

    /// Runs `body` against the nodes `targets` names in the view, in order, until one answers;
    /// re-reads the shard's record and retries after a backoff until the deadline. A shard meta
    /// does not know fails with `notFound` (unless `allowMissing`).
    func retrying<T: Sendable>(
        _ what: String, shard: String, allowMissing: Bool = false,
        targets: @Sendable (JournalClusterView) -> [UInt64],
        body: @Sendable (JournalClient, RPCCallOptions) async throws -> T
    ) async throws -> T {
        start()
        let deadline = NIODeadline.now() + options.timeout
        var lastError = RPCError(.unavailable, "\(what): no journal node answered before the deadline")
        var refreshNeeded = state.withLock { $0.view.shards[shard] == nil }
        while true {
            if refreshNeeded {
                let record = try await refresh(shard: shard)
                if record == nil && !allowMissing { throw RPCError(.notFound, "unknown shard '\(shard)'") }
            }
            var (nodes, addresses) = resolve(targets)
            if nodes.isEmpty || addresses.contains(where: { $0 == nil }) {
                // Registrations the watch has not delivered yet (or a node that moved): read them.
                try await refreshNodes()
                (nodes, addresses) = resolve(targets)
            }
            if nodes.isEmpty {
                lastError = RPCError(.unavailable, "\(what): no segment placed or no live journal node yet")
            }
            for (node, address) in zip(nodes, addresses) {
                guard let address else {
                    lastError = RPCError(.unavailable, "\(what): journal node \(node) is not registered")
                    continue
                }
                let remaining = deadline - NIODeadline.now()
                guard remaining > .zero else { throw lastError }
                do {
                    let client = JournalClient(transport: transport(for: address))
                    return try await body(client, RPCCallOptions(timeout: min(remaining, options.attemptTimeout)))
                } catch let error where Self.isRetryable(error) {
                    lastError = (error as? RPCError) ?? lastError
                    logger.debug("journal call failed; retrying", metadata: ["call": "\(what)", "node": "\(node)", "error": "\(error)"])
                }
            }
            guard deadline - NIODeadline.now() > options.backoff else { throw lastError }
            try await Task.sleep(nanoseconds: UInt64(max(0, options.backoff.nanoseconds)))
            refreshNeeded = true
        }
    }

    private func resolve(_ targets: (JournalClusterView) -> [UInt64]) -> ([UInt64], [String?]) {
        state.withLock { state in
            let nodes = targets(state.view)
            return (nodes, nodes.map { state.view.nodes[$0] })
        }
    }

    /// Reads the shard's record from meta into the view; `nil` when there is none.
    @discardableResult
    func refresh(shard: String) async throws -> ShardMetadata? {
        let value = try await meta.get(ShardMetadata.key(shard: shard)).keyValue
        let record = try value.map { try ShardMetadata(bytes: $0.value) }
        state.withLock { state in
            state.view.shards[shard] = record
            state.notify()
        }
        return record
    }

    /// Reads the node registrations from meta into the view.
    func refreshNodes() async throws {
        let range = try await meta.range(prefix: JournalClusterView.nodePrefix)
        state.withLock { state in
            state.view.replace(prefix: JournalClusterView.nodePrefix, with: range.keyValues)
            state.notify()
        }
    }

    /// The transport to journal node `id` at its registered address (`nil` while it has none).
    public func transport(toNode id: UInt64) -> (any RPCTransport)? {
        guard let address = state.withLock({ $0.view.nodes[id] }) else { return nil }
        return transport(for: address)
    }

    func transport(for address: String) -> any RPCTransport {
        state.withLock { state in
            if let known = state.transports[address] { return known }
            let made = connect(address)
            state.transports[address] = made
            return made
        }
    }
}
