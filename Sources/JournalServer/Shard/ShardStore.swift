import Logging
import Metrics
import NIOCore
import NIOPosix
import Shared
import Synchronization

/// This node's shards: each one a ``SegmentLog`` in `<data>/journal/shards/<name>/`, with its
/// settings in a `shard.settings` file beside the segments.
///
/// Every shard is pinned to one event loop of the store's group: its appends complete there,
/// and its tails are notified there (no `Task` or actor hop per record). File IO runs where
/// ``SegmentLog`` runs it, on the thread pool. An append's future completes only once the
/// shard's durability policy is met (the acknowledgement), and readers and tails never see
/// records beyond the durable end.
///
/// ```swift
/// let store = try await ShardStore.open(dataDirectory: dir, eventLoopGroup: group, threadPool: pool, logger: logger).get()
/// _ = try await store.create(shard: "orders", settings: ShardSettings()).get()
/// let ack = try await store.append(shard: "orders", records: [Record(timestamp: now, key: key, value: value)]).get()
/// let tail = try store.subscribe(shard: "orders", from: 0, filter: filters) { batch in … }
/// ```
public final class ShardStore: Sendable {
    enum Entry: Sendable {
        case opening(ShardSettings, EventLoopFuture<Shard>)
        case open(Shard)
        case deleting
    }

    struct State: Sendable {
        var entries: [String: Entry] = [:]
        var closed = false
        var retentionTask: RepeatedTask?
    }

    /// The directory holding one subdirectory per shard (`<data>/journal/shards`).
    public let directory: String
    /// The loops shards are pinned to.
    public let eventLoopGroup: any EventLoopGroup
    let threadPool: NIOThreadPool
    let logger: Logger
    let tailReadBytes: Int
    let metricsFactory: any MetricsFactory
    let state: Mutex<State>

    /// The bytes a tail reads from disk at a time when catching up.
    public static let defaultTailReadBytes = 1 << 20

    private init(
        directory: String, eventLoopGroup: any EventLoopGroup, threadPool: NIOThreadPool, logger: Logger, tailReadBytes: Int,
        metricsFactory: any MetricsFactory
    ) {
        self.metricsFactory = metricsFactory
        self.directory = directory
        self.eventLoopGroup = eventLoopGroup
        self.threadPool = threadPool
        self.logger = logger
        self.tailReadBytes = tailReadBytes
        self.state = Mutex(State())
    }

    /// Opens the store under a node's data directory and every shard found there (each log
    /// recovers in ``SegmentLog/open(directory:configuration:threadPool:eventLoop:logger:metrics:initialOffset:clock:)``).
    /// Directories without a readable settings file (a create cut short) are skipped with a warning.
    public static func open(
        dataDirectory: String,
        eventLoopGroup: any EventLoopGroup,
        threadPool: NIOThreadPool,
        logger: Logger,
        tailReadBytes: Int = ShardStore.defaultTailReadBytes,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) -> EventLoopFuture<ShardStore> {
        let root = dataDirectory + "/journal/shards"
        let store = ShardStore(
            directory: root, eventLoopGroup: eventLoopGroup, threadPool: threadPool, logger: logger,
            tailReadBytes: max(tailReadBytes, 1), metricsFactory: metricsFactory)
        let loop = eventLoopGroup.any()
        let found = threadPool.runIfActive(eventLoop: loop) { () throws -> [(String, ShardSettings)] in
            try ShardFiles.makeDirectories(root)
            var found: [(String, ShardSettings)] = []
            for name in try StorageFile.listDirectory(root).sorted() {
                guard (try? ShardStoreError.validate(shardName: name)) != nil else { continue }
                guard let settings = ShardFiles.readSettings(directory: root + "/" + name) else {
                    logger.warning("skipping a shard directory without readable settings", metadata: ["shard": "\(name)"])
                    continue
                }
                found.append((name, settings))
            }
            return found
        }
        return found.flatMap { found in
            let opened = found.map { name, settings in store.openShard(name: name, settings: settings) }
            return EventLoopFuture.whenAllSucceed(opened, on: loop).map { shards in
                store.state.withLock { state in
                    for shard in shards { state.entries[shard.name] = .open(shard) }
                }
                logger.info("journal shards open", metadata: ["shards": "\(shards.count)", "directory": "\(root)"])
                return store
            }
        }
    }

    private func openShard(name: String, settings: ShardSettings) -> EventLoopFuture<Shard> {
        let loop = eventLoopGroup.next()
        var shardLogger = logger
        shardLogger[metadataKey: "shard"] = "\(name)"
        return SegmentLog.open(
            directory: directory + "/" + name, configuration: settings.logConfiguration, threadPool: threadPool,
            eventLoop: loop, logger: shardLogger, metrics: SegmentLogMetrics(factory: metricsFactory, dimensions: [("shard", name)])
        ).map { log in
            Shard(
                name: name, settings: settings, log: log, tailReadBytes: self.tailReadBytes,
                metrics: ShardMetrics(shard: name, factory: self.metricsFactory))
        }
    }

    /// The names of the open shards, sorted.
    public func list() -> [String] {
        state.withLock { state in
            state.entries.compactMap { name, entry in
                if case .open = entry { return name }
                return nil
            }.sorted()
        }
    }

    /// The event loop a shard's appends complete and tails run on (`nil` if unknown).
    public func eventLoop(shard name: String) -> (any EventLoop)? {
        try? lookup(name).eventLoop
    }

    func lookup(_ name: String) throws(ShardStoreError) -> Shard {
        try state.withLock { state throws(ShardStoreError) -> Shard in
            guard !state.closed else { throw .closed }
            switch state.entries[name] {
            case .open(let shard): return shard
            case .opening, .deleting: throw .shardBusy(name)
            case nil: throw .shardNotFound(name)
            }
        }
    }

    func withShard<Value>(_ name: String, _ body: (Shard) -> EventLoopFuture<Value>) -> EventLoopFuture<Value> {
        do {
            return body(try lookup(name))
        } catch {
            return eventLoopGroup.any().makeFailedFuture(error)
        }
    }

    /// Creates a shard, or returns the existing one if it has the same settings (idempotent);
    /// fails with ``ShardStoreError/shardExists(_:existing:)`` if its settings differ.
    public func create(shard name: String, settings: ShardSettings = ShardSettings()) -> EventLoopFuture<ShardDescription> {
        let loop = eventLoopGroup.any()
        do throws(ShardStoreError) {
            try ShardStoreError.validate(shardName: name)
            if let reason = settings.validationFailure() { throw .invalidSettings(reason) }
        } catch {
            return loop.makeFailedFuture(error)
        }
        let promise = loop.makePromise(of: Shard.self)
        let existing = state.withLock { state -> Result<EventLoopFuture<Shard>?, ShardStoreError> in
            guard !state.closed else { return .failure(.closed) }
            switch state.entries[name] {
            case .open(let shard):
                return shard.settings == settings
                    ? .success(loop.makeSucceededFuture(shard)) : .failure(.shardExists(name, existing: shard.settings))
            case .opening(let existing, let future):
                return existing == settings ? .success(future) : .failure(.shardExists(name, existing: existing))
            case .deleting:
                return .failure(.shardBusy(name))
            case nil:
                state.entries[name] = .opening(settings, promise.futureResult)
                return .success(nil)
            }
        }
        switch existing {
        case .failure(let error):
            promise.fail(error)
            return loop.makeFailedFuture(error)
        case .success(.some(let future)):
            promise.fail(ShardStoreError.shardBusy(name))  // never handed out
            return future.flatMap { self.describe($0) }
        case .success(.none):
            break
        }
        let shardDirectory = directory + "/" + name
        let prepared = threadPool.runIfActive(eventLoop: loop) {
            try StorageFile.makeDirectory(shardDirectory)
            try ShardFiles.writeSettings(settings, directory: shardDirectory)
            try StorageFile.syncDirectory(self.directory)
        }
        prepared.flatMap { self.openShard(name: name, settings: settings) }.whenComplete { result in
            self.state.withLock { state in
                switch result {
                case .success(let shard): state.entries[name] = .open(shard)
                case .failure: state.entries[name] = nil
                }
            }
            if case .success = result {
                self.logger.info("shard created", metadata: ["shard": "\(name)", "settings": "\(settings)"])
            }
            promise.completeWith(result.mapError { error -> any Error in
                if let storage = error as? StorageError { return ShardStoreError.storage(shard: name, storage) }
                return error
            })
        }
        return promise.futureResult.flatMap { self.describe($0) }
    }

    /// Deletes a shard: its tails end with ``ShardStoreError/shardDeleted(_:)``, its log closes,
    /// and its directory is removed.
    public func delete(shard name: String) -> EventLoopFuture<Void> {
        let shard: Shard
        do throws(ShardStoreError) {
            shard = try state.withLock { state throws(ShardStoreError) -> Shard in
                guard !state.closed else { throw .closed }
                switch state.entries[name] {
                case .open(let shard):
                    state.entries[name] = .deleting
                    return shard
                case .opening, .deleting: throw .shardBusy(name)
                case nil: throw .shardNotFound(name)
                }
            }
        } catch {
            return eventLoopGroup.any().makeFailedFuture(error)
        }
        let directory = self.directory
        return shard.close(reason: .shardDeleted(name)).flatMap {
            self.threadPool.runIfActive(eventLoop: shard.eventLoop) {
                try ShardFiles.removeDirectory(shard.directory)
                try StorageFile.syncDirectory(directory)
            }
        }.always { _ in
            self.state.withLock { state in
                if case .deleting = state.entries[name] { state.entries[name] = nil }
            }
        }.map {
            self.logger.info("shard deleted", metadata: ["shard": "\(name)"])
        }
    }

    /// Describes a shard: offsets, state and segments.
    public func describe(shard name: String) -> EventLoopFuture<ShardDescription> {
        withShard(name) { self.describe($0) }
    }

    func describe(_ shard: Shard) -> EventLoopFuture<ShardDescription> {
        threadPool.runIfActive(eventLoop: shard.eventLoop) {
            try ShardFiles.segments(directory: shard.directory)
        }.map { segments in
            let corrupt = shard.log.corruptSegments
            return ShardDescription(
                name: shard.name, settings: shard.settings, startOffset: shard.log.logStartOffset,
                endOffset: shard.committedEndOffset, state: corrupt.isEmpty ? .active : .corrupt,
                segments: segments, corruptSegments: corrupt)
        }.flatMapErrorThrowing { error in throw shard.mapError(error) }
    }

    /// Appends records as one batch (offsets are assigned by the shard; each record's
    /// `offset` is ignored). The future completes on the shard's event loop once the batch is
    /// durable per the shard's settings — that is the acknowledgement.
    public func append(shard name: String, records: [Record]) -> EventLoopFuture<AppendResult> {
        withShard(name) { $0.append(records) }
    }

    /// Appends one encoded record batch (Kafka RecordBatch v2, as a producer sent it); its CRC
    /// is checked and the shard assigns its offsets. Completes once durable.
    public func append(shard name: String, encodedBatch: ByteBuffer) -> EventLoopFuture<AppendResult> {
        withShard(name) { $0.append(encoded: encodedBatch) }
    }

    /// Reads durable records from `offset` (whole stored batches up to about `maxBytes`, at
    /// least one batch). Reading at the end returns no records.
    public func read(shard name: String, from offset: Int64, maxBytes: Int) -> EventLoopFuture<ShardReadResult> {
        withShard(name) { $0.read(from: offset, maxBytes: maxBytes) }
    }

    /// The offset of the first durable record with a timestamp at or after `timestamp`, or `nil`.
    public func offset(shard name: String, forTimestamp timestamp: Int64) -> EventLoopFuture<Int64?> {
        withShard(name) { $0.offset(forTimestamp: timestamp) }
    }

    /// Starts a tail: replays the durable records from `offset` (`nil`: from the durable end;
    /// an offset already removed by retention starts at the first stored one), then delivers
    /// every newly durable batch, skipping records whose key is not a topic matched by
    /// `filter` (`nil`: every record). The handler runs on the shard's event loop.
    public func subscribe(
        shard name: String,
        from offset: Int64?,
        filter: TopicFilterSet? = nil,
        handler: @escaping ShardTail.Handler
    ) throws(ShardStoreError) -> ShardTail {
        try lookup(name).subscribe(from: offset, filter: filter, handler: handler)
    }

    /// Ends every tail, flushes and closes every shard; later calls fail with ``ShardStoreError/closed``.
    public func close() -> EventLoopFuture<Void> {
        let retention = state.withLock { state -> RepeatedTask? in
            state.closed = true
            defer { state.retentionTask = nil }
            return state.retentionTask
        }
        retention?.cancel()
        let shards = openShards()
        let loop = eventLoopGroup.any()
        return EventLoopFuture.andAllComplete(shards.map { $0.close(reason: .closed) }, on: loop)
    }
}
