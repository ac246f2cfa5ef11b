import NIOCore
import Shared

extension ReplicatedSegment {
    /// Completes once the high watermark passed `position`, the segment is sealed at or before
    /// it, or the replica closes.
    func waitForData(after position: Int64) -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            let state = self.state.value
            if state.highWatermark > position || (state.sealedEnd.map { position >= $0 } ?? false) {
                return self.eventLoop.makeSucceededVoidFuture()
            }
            let promise = self.eventLoop.makePromise(of: Void.self)
            self.state.value.waiters.append(promise)
            return promise.futureResult
        }
    }

    /// Whether meta sealed the segment and `position` reached its end.
    func isFinished(at position: Int64) -> EventLoopFuture<Bool> {
        eventLoop.submit { self.state.value.sealedEnd.map { position >= $0 } ?? false }
    }

    /// Streams the replica's records from `position` (`nil`: from the high watermark) as
    /// ``ShardTailBatch``es through `send` (which completes when the caller has credit), waiting
    /// for the high watermark to move; completes when the segment is sealed and fully delivered
    /// (the caller then continues on the next segment) or once `isCancelled` says so.
    public func tail(
        from position: Int64?, filter: TopicFilterSet?, maxBytes: Int,
        isCancelled: @escaping @Sendable () -> Bool,
        send: @escaping @Sendable (ShardTailBatch) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<Void> {
        guard let position else {
            return highWatermark.flatMap { self.tail(from: $0, filter: filter, maxBytes: maxBytes, isCancelled: isCancelled, send: send) }
        }
        if isCancelled() { return eventLoop.makeSucceededVoidFuture() }
        return isFinished(at: position).flatMap { finished in
            if finished { return self.eventLoop.makeSucceededVoidFuture() }
            return self.read(from: max(position, self.baseOffset), maxBytes: maxBytes).flatMap { result in
                guard result.nextOffset > position else {
                    return self.waitForData(after: position).flatMap {
                        self.tail(from: position, filter: filter, maxBytes: maxBytes, isCancelled: isCancelled, send: send)
                    }
                }
                let records = result.records.filter { record in
                    guard let filter else { return true }
                    guard let key = record.key else { return false }
                    return filter.matches(utf8: key.readableBytesView)
                }
                let sent = records.isEmpty ? self.eventLoop.makeSucceededVoidFuture() : send(ShardTailBatch(records: records, nextOffset: result.nextOffset))
                return sent.flatMap {
                    self.tail(from: result.nextOffset, filter: filter, maxBytes: maxBytes, isCancelled: isCancelled, send: send)
                }
            }
        }
    }
}
