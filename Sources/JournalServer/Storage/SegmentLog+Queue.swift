import Logging
import NIOCore
import Synchronization
import NIOPosix

extension SegmentLog {
    /// Runs `body` on the serial queue and completes the future with its result.
    func submit<Value: Sendable>(
        _ body: @escaping @Sendable (SegmentLogCore) throws(StorageError) -> Value
    ) -> EventLoopFuture<Value> {
        let promise = eventLoop.makePromise(of: Value.self)
        enqueue { core in
            guard let core else {
                promise.fail(StorageError.closed)
                return
            }
            // The snapshot is published before completion, so a caller that awaited the
            // future sees offsets at least as new as its own operation.
            let result: Result<Value, StorageError>
            do throws(StorageError) {
                result = .success(try body(core))
            } catch {
                result = .failure(error)
            }
            self.publishSnapshot(core)
            promise.completeWith(result.mapError { $0 as any Error })
        }
        return promise.futureResult
    }

    func appendOperation(_ encoded: ByteBuffer, assignOffsets: Bool, leaderEpoch: Int32?) -> EventLoopFuture<AppendResult> {
        let promise = eventLoop.makePromise(of: AppendResult.self)
        enqueue { core in
            guard let core else {
                promise.fail(StorageError.closed)
                return
            }
            do {
                let result = try core.locked { () throws(StorageError) in
                    try core.append(encoded, assignOffsets: assignOffsets, leaderEpoch: leaderEpoch)
                }
                self.publishSnapshot(core)
                switch core.configuration.durability {
                case .never:
                    promise.succeed(result)
                case .everyBatch:
                    try core.syncActive()
                    self.publishSnapshot(core)
                    promise.succeed(result)
                case .interval:
                    // Completed by the group commit after this drain round (``commitWaiting(_:)``).
                    core.awaitingSync.append((promise, result))
                }
            } catch {
                self.publishSnapshot(core)
                promise.fail(error)
            }
        }
        return promise.futureResult
    }

    /// One fsync for every append written so far; completes them all (or fails them all).
    /// The synced end offset is published before any append completes.
    func groupCommit(_ core: SegmentLogCore) throws(StorageError) {
        let waiting = core.awaitingSync
        core.awaitingSync = []
        core.lastGroupCommitStart = .now()
        do {
            try core.syncActive()
        } catch {
            core.logger.error("fsync failed; failing the appends that waited for it", metadata: ["error": "\(error)", "appends": "\(waiting.count)"])
            publishSnapshot(core)
            for entry in waiting { entry.promise.fail(error) }
            throw error
        }
        publishSnapshot(core)
        for entry in waiting { entry.promise.succeed(entry.result) }
    }

    /// After a drain round (on the queue): group-commits the appends it wrote, unless the
    /// policy's interval since the last group commit has not passed yet, in which case one is
    /// scheduled for when it has. Appends arriving during the fsync queue up meanwhile and are
    /// written and committed together in the next round.
    private func commitWaiting(_ core: SegmentLogCore) {
        guard !core.isClosed, !core.awaitingSync.isEmpty, !core.isSyncScheduled,
            case .interval(let milliseconds) = core.configuration.durability
        else { return }
        let now = NIODeadline.now()
        let due = core.lastGroupCommitStart.map { $0 + .milliseconds(milliseconds) } ?? now
        guard due > now else {
            try? groupCommit(core)
            return
        }
        core.isSyncScheduled = true
        eventLoop.scheduleTask(deadline: due) {
            // An empty operation: its drain round ends with the commit, now due.
            self.enqueue { core in core?.isSyncScheduled = false }
        }
    }

    /// Adds an operation; starts a drainer on the thread pool unless one is running.
    private func enqueue(_ operation: @escaping Operation) {
        let startDrainer = queue.withLock { queue -> Bool in
            queue.pending.append(operation)
            guard !queue.isDraining else { return false }
            queue.isDraining = true
            return true
        }
        guard startDrainer else { return }
        threadPool.submit { state in
            self.drain(cancelled: state == .cancelled)
        }
    }

    /// Runs queued operations in order until the queue is empty.
    private func drain(cancelled: Bool) {
        while true {
            let batch = queue.withLock { queue -> [Operation] in
                let batch = queue.pending
                queue.pending = []
                if batch.isEmpty { queue.isDraining = false }
                return batch
            }
            if batch.isEmpty { return }
            for operation in batch {
                operation(cancelled || core.isClosed ? nil : core)
            }
            if !cancelled { commitWaiting(core) }
        }
    }

    func publishSnapshot(_ core: SegmentLogCore) {
        guard !core.isClosed else { return }
        let fresh = Snapshot(
            logStartOffset: core.logStartOffset, logEndOffset: core.logEndOffset, syncedEndOffset: core.syncedEndOffset,
            corruptSegments: core.corruptSegments)
        snapshot.withLock { $0 = fresh }
    }
}
