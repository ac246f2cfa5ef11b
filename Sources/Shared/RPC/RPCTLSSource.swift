import NIOConcurrencyHelpers
import NIOSSL

/// A TLS context that may be replaced while in use: an ``RPCServer`` or ``RPCClient`` given one
/// reads it for every new connection, so a replacement (a certificate reload) applies to new
/// connections while established ones keep the context they were made with.
public final class RPCTLSSource: Sendable {
    private let current: NIOLockedValueBox<NIOSSLContext>

    /// Creates a source serving `context`.
    public init(_ context: NIOSSLContext) {
        self.current = NIOLockedValueBox(context)
    }

    /// The context new connections use.
    public var context: NIOSSLContext {
        current.withLockedValue { $0 }
    }

    /// Makes `context` the one new connections use.
    public func replace(with context: NIOSSLContext) {
        current.withLockedValue { $0 = context }
    }
}
