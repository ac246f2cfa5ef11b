import NIOCore
import Shared

/// One `meta.watch` stream on a ``MetaNode``: the next revision to deliver and the stream.
/// Owned by the node's event loop. At most one batch is in flight (waiting for stream credit),
/// so a slow watcher costs no buffering: events are re-read from the store's history.
final class MetaWatcher: @unchecked Sendable {
    let prefix: String
    var nextRevision: UInt64
    let writer: RPCStreamWriter<MetaWatchResponse>
    let done: EventLoopPromise<Void>
    var sending = false
    /// Most events read from the history per batch (whole revisions are kept together).
    static let batchLimit = 512

    init(prefix: String, nextRevision: UInt64, writer: RPCStreamWriter<MetaWatchResponse>, done: EventLoopPromise<Void>) {
        self.prefix = prefix
        self.nextRevision = nextRevision
        self.writer = writer
        self.done = done
    }
}

extension MetaNode {
    /// Serves `meta.watch`: replays the history from the requested revision, then follows new
    /// changes as they are applied, respecting the stream's credit.
    func watch(_ request: MetaWatchRequest, writer: RPCStreamWriter<MetaWatchResponse>, context: RPCCallContext) -> EventLoopFuture<Void> {
        eventLoop.assertInEventLoop()
        let done = eventLoop.makePromise(of: Void.self)
        let from = request.fromRevision == 0 ? store.revision + 1 : request.fromRevision
        if from < store.oldestRetainedRevision {
            done.fail(compactedError(oldest: store.oldestRetainedRevision))
            return done.futureResult
        }
        let watcher = MetaWatcher(prefix: request.prefix, nextRevision: from, writer: writer, done: done)
        watchers[ObjectIdentifier(watcher)] = watcher
        context.onCancel { reason in
            self.eventLoop.execute { self.end(watcher, error: reason) }
        }
        pump(watcher)
        return done.futureResult
    }

    /// Sends the watcher's next batch, if it has one and none is in flight.
    func pump(_ watcher: MetaWatcher) {
        guard !watcher.sending, watchers[ObjectIdentifier(watcher)] != nil, watcher.nextRevision <= store.revision else { return }
        var batch: [WatchEvent]
        do {
            batch = try store.events(from: watcher.nextRevision, prefix: watcher.prefix, limit: MetaWatcher.batchLimit)
            if batch.count == MetaWatcher.batchLimit, let last = batch.last?.revision {
                let whole = batch.filter { $0.revision < last }
                batch = whole.isEmpty
                    ? try store.events(from: last, prefix: watcher.prefix).filter { $0.revision == last }
                    : whole
                watcher.nextRevision = (batch.last?.revision ?? last) + 1
            } else {
                watcher.nextRevision = store.revision + 1
            }
        } catch {
            if case .compacted(let oldest) = error {
                end(watcher, error: compactedError(oldest: oldest))
            } else {
                end(watcher, error: RPCError(.internal, "\(error)"))
            }
            return
        }
        guard !batch.isEmpty else { return }
        watcher.sending = true
        watcher.writer.send(MetaWatchResponse(events: batch)).hop(to: eventLoop).whenComplete { result in
            watcher.sending = false
            switch result {
            case .success: self.pump(watcher)
            case .failure(let error): self.end(watcher, error: (error as? RPCError) ?? RPCError(.unavailable, "\(error)"))
            }
        }
    }

    /// Ends a watch (successfully when `error` is nil).
    func end(_ watcher: MetaWatcher, error: RPCError?) {
        guard watchers.removeValue(forKey: ObjectIdentifier(watcher)) != nil else { return }
        if let error { watcher.done.fail(error) } else { watcher.done.succeed() }
    }

    func compactedError(oldest: UInt64) -> RPCError {
        var detail = ByteBuffer()
        detail.writeVarint(oldest)
        return RPCError(.failedPrecondition, MetaError.compacted(oldestRevision: oldest).description, detail: detail)
    }
}
