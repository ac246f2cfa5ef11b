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
                    promise.succeed(result)
                case .interval(let milliseconds):
                    core.awaitingSync.append((promise, result))
                    if !core.isSyncScheduled {
                        core.isSyncScheduled = true
                        self.eventLoop.scheduleTask(in: .milliseconds(milliseconds)) {
                            self.enqueue { core in
                                guard let core else { return }
                                try? self.groupCommit(core)
                            }
                        }
                    }
                }
            } catch {
                self.publishSnapshot(core)
                promise.fail(error)
            }
        }
        return promise.futureResult
    }

    /// One fsync for every append written so far; completes them all (or fails them all).
    func groupCommit(_ core: SegmentLogCore) throws(StorageError) {
        core.isSyncScheduled = false
        let waiting = core.awaitingSync
        core.awaitingSync = []
        do {
            try core.syncActive()
        } catch {
            core.logger.error("fsync failed; failing the appends that waited for it", metadata: ["error": "\(error)", "appends": "\(waiting.count)"])
            for entry in waiting { entry.promise.fail(error) }
            throw error
        }
        for entry in waiting { entry.promise.succeed(entry.result) }
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
        }
    }

    private func publishSnapshot(_ core: SegmentLogCore) {
        guard !core.isClosed else { return }
        let fresh = Snapshot(
            logStartOffset: core.logStartOffset, logEndOffset: core.logEndOffset, corruptSegments: core.corruptSegments)
        snapshot.withLock { $0 = fresh }
    }
}
