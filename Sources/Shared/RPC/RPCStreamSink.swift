import DequeModule
import NIOCore

/// The untyped, credit-controlled sending side of a server stream.
///
/// Each item consumes one unit of credit granted by the receiver (initial window plus
/// `windowUpdate`s). When no credit is left, writes are queued and their futures complete only
/// when credit arrives — that is the back-pressure a handler feels. All state lives on
/// `eventLoop`; public entry points hop there.
final class RPCStreamSink: @unchecked Sendable {
    let eventLoop: any EventLoop
    private let emit: (ByteBuffer) -> Void
    private var credit = 0
    private var queue = Deque<(ByteBuffer, EventLoopPromise<Void>)>()
    private var closedReason: RPCError?
    private var onDrained: (() -> Void)?
    private var finishing = false

    /// `emit` is called on `eventLoop` for every item that may be sent now.
    init(eventLoop: any EventLoop, emit: @escaping (ByteBuffer) -> Void) {
        self.eventLoop = eventLoop
        self.emit = emit
    }

    /// Sends `bytes` as one item; the future completes once it was handed to the transport.
    func write(_ bytes: ByteBuffer) -> EventLoopFuture<Void> {
        if self.eventLoop.inEventLoop {
            return self.writeOnLoop(bytes)
        }
        return self.eventLoop.flatSubmit { self.writeOnLoop(bytes) }
    }

    private func writeOnLoop(_ bytes: ByteBuffer) -> EventLoopFuture<Void> {
        if let closedReason {
            return self.eventLoop.makeFailedFuture(closedReason)
        }
        if self.finishing {
            return self.eventLoop.makeFailedFuture(RPCError(.failedPrecondition, "stream already finished"))
        }
        if self.credit > 0 && self.queue.isEmpty {
            self.credit -= 1
            self.emit(bytes)
            return self.eventLoop.makeSucceededVoidFuture()
        }
        let promise = self.eventLoop.makePromise(of: Void.self)
        self.queue.append((bytes, promise))
        return promise.futureResult
    }

    /// Adds credit for `items` more items (on the loop).
    func grant(_ items: Int) {
        self.eventLoop.preconditionInEventLoop()
        guard self.closedReason == nil else { return }
        self.credit = min(self.credit + max(items, 0), Int(UInt32.max))
        while self.credit > 0, let (bytes, promise) = self.queue.popFirst() {
            self.credit -= 1
            self.emit(bytes)
            promise.succeed()
        }
        if self.queue.isEmpty, let onDrained = self.onDrained {
            self.onDrained = nil
            onDrained()
        }
    }

    /// Runs `then` once every queued item was sent (immediately if none is queued).
    func finish(then: @escaping () -> Void) {
        self.eventLoop.preconditionInEventLoop()
        guard self.closedReason == nil else { return }
        self.finishing = true
        if self.queue.isEmpty {
            then()
        } else {
            self.onDrained = then
        }
    }

    /// Abandons the stream: queued and later writes fail with `reason`.
    func close(_ reason: RPCError) {
        self.eventLoop.preconditionInEventLoop()
        guard self.closedReason == nil else { return }
        self.closedReason = reason
        self.onDrained = nil
        while let (_, promise) = self.queue.popFirst() {
            promise.fail(reason)
        }
    }
}
