import NIOCore

/// Where one client call is: waiting for a connection, or sent on one with a correlation id.
/// Lets cancellation and the client-side deadline reach the call whichever state it is in.
///
/// Loop-bound: touched only on `eventLoop`.
final class RPCClientCall: @unchecked Sendable {
    let eventLoop: any EventLoop
    private var sent: (RPCClientConnectionHandler, UInt64)?
    private(set) var aborted = false
    private let failWaiting: @Sendable (RPCError) -> Void

    /// `failWaiting` fails the caller when the call is aborted before it was sent.
    init(eventLoop: any EventLoop, failWaiting: @escaping @Sendable (RPCError) -> Void) {
        self.eventLoop = eventLoop
        self.failWaiting = failWaiting
    }

    /// Records that the call went out on `connection` as `correlationID`.
    func markSent(on connection: RPCClientConnectionHandler, correlationID: UInt64) {
        self.eventLoop.preconditionInEventLoop()
        self.sent = (connection, correlationID)
    }

    /// Grants stream credit, if the call is on a connection.
    func grant(_ credit: Int) {
        self.onLoop {
            if let (connection, id) = self.sent {
                connection.grant(id, credit: credit)
            }
        }
    }

    /// Fails the call with `error` and, if it was sent, tells the server to cancel it.
    func abort(_ error: RPCError) {
        self.onLoop {
            guard !self.aborted else { return }
            self.aborted = true
            if let (connection, id) = self.sent {
                connection.abort(id, error)
            }
            self.failWaiting(error)
        }
    }

    private func onLoop(_ body: @escaping @Sendable () -> Void) {
        if self.eventLoop.inEventLoop {
            body()
        } else {
            self.eventLoop.execute(body)
        }
    }
}
