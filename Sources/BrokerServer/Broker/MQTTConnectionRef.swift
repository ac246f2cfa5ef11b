import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// The broker's handle on one client connection: its event loop and its handler, reachable only
/// on that loop. `ended` completes once the connection's session has been persisted or discarded
/// (a takeover waits for it before resuming the session elsewhere).
final class MQTTConnectionRef: Sendable {
    let id: UInt64
    let eventLoop: any EventLoop
    let handler: NIOLoopBound<MQTTConnectionHandler>
    let ended: EventLoopPromise<Void>

    init(id: UInt64, handler: MQTTConnectionHandler, eventLoop: any EventLoop) {
        self.id = id
        self.eventLoop = eventLoop
        self.handler = NIOLoopBound(handler, eventLoop: eventLoop)
        self.ended = eventLoop.makePromise()
    }

    /// Runs `body` with the handler on its event loop, later (never inline, so a caller on that
    /// loop is not re-entered).
    func execute(_ body: @escaping @Sendable (MQTTConnectionHandler) -> Void) {
        let handler = self.handler
        eventLoop.execute { body(handler.value) }
    }
}
