import Logging
import MetaService
import NIOCore
import Shared
import Synchronization

extension JournalClusterClient {
    /// Starts the meta watches that keep ``view`` current (idempotent; calls start it too).
    /// Each watch reads its prefix, then follows the changes from the next revision; when the
    /// watch fails (the meta member died, history compacted) it reads the prefix again.
    public func start() {
        let begin = state.withLock { state -> Bool in
            guard !state.started, !state.closed else { return false }
            state.started = true
            return true
        }
        guard begin else { return }
        let watches = [ShardMetadata.keyPrefix, JournalClusterView.nodePrefix].map { prefix in
            Task { [self] in await self.watch(prefix: prefix) }
        }
        state.withLock { $0.watches.append(contentsOf: watches) }
    }

    private func watch(prefix: String) async {
        while !Task.isCancelled {
            do {
                let range = try await meta.range(prefix: prefix)
                state.withLock { state in
                    state.view.replace(prefix: prefix, with: range.keyValues)
                    state.notify()
                }
                let stream = meta.watch(prefix: prefix, fromRevision: range.revision + 1)
                try await withTaskCancellationHandler {
                    for try await response in stream {
                        state.withLock { state in
                            for event in response.events { state.view.apply(event) }
                            state.notify()
                        }
                    }
                } onCancel: {
                    stream.cancel()
                }
            } catch {
                if Task.isCancelled { return }
                logger.debug("journal cluster watch failed; restarting", metadata: ["prefix": "\(prefix)", "error": "\(error)"])
            }
            try? await Task.sleep(nanoseconds: UInt64(max(0, options.backoff.nanoseconds)) * 4)
        }
    }
}
