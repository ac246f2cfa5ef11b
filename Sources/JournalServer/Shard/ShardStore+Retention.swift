import Logging
import NIOCore
import Synchronization

extension ShardStore {
    /// Deletes, in every shard, the sealed segments past its retention time or size now;
    /// returns the deleted segments' base offsets by shard (shards that deleted nothing are left out).
    public func enforceRetention() -> EventLoopFuture<[String: [Int64]]> {
        let shards = openShards()
        let loop = eventLoopGroup.any()
        let results = shards.map { shard in
            shard.log.enforceRetention().map { (shard.name, $0) }.recover { _ in (shard.name, []) }
        }
        return EventLoopFuture.whenAllSucceed(results, on: loop).map { pairs in
            var deleted: [String: [Int64]] = [:]
            for (name, bases) in pairs where !bases.isEmpty { deleted[name] = bases }
            return deleted
        }
    }

    /// Runs ``enforceRetention()`` every `interval` until the store closes (a second call
    /// replaces the schedule).
    public func startRetention(every interval: TimeAmount = .seconds(60)) {
        let task = eventLoopGroup.any().scheduleRepeatedAsyncTask(initialDelay: interval, delay: interval) { _ in
            self.enforceRetention().map { deleted in
                for (shard, bases) in deleted {
                    self.logger.info("retention deleted segments", metadata: ["shard": "\(shard)", "segments": "\(bases)"])
                }
            }
        }
        let previous = state.withLock { state -> RepeatedTask? in
            if state.closed { return task }
            defer { state.retentionTask = task }
            return state.retentionTask
        }
        previous?.cancel()
    }

    func openShards() -> [Shard] {
        state.withLock { state in
            state.entries.values.compactMap { entry in
                if case .open(let shard) = entry { return shard }
                return nil
            }
        }
    }
}
