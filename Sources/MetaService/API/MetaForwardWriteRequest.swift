import NIOCore
import Shared

/// `meta.forwardWrite`: a key-value write a follower received from a client and hands to the
/// leader it knows. Wire: the ``MetaCommand`` (put, delete, delete-prefix or compare-and-set;
/// lease commands are refused when decoding).
///
/// The receiver proposes it only if it is the leader, and never forwards it again: a stale
/// follower's forward fails `notLeader` (with the leader's address) or `unavailable`, which the
/// follower returns to its client as is.
public struct MetaForwardWriteRequest: RPCMessage, Equatable {
    /// The write.
    public var command: MetaCommand

    /// Creates a request; `command` must be a key-value write.
    public init(command: MetaCommand) {
        self.command = command
    }

    /// Whether `command` may be forwarded (key-value writes only).
    public static func isForwardable(_ command: MetaCommand) -> Bool {
        switch command {
        case .put, .delete, .deletePrefix, .compareAndSet: true
        case .grantLease, .revokeLease: false
        }
    }

    public init(rpcBody buffer: inout ByteBuffer) throws {
        let command = try MetaCommand(from: &buffer)
        guard Self.isForwardable(command) else {
            throw WireDecodingError.invalidValue(what: "meta.forwardWrite", reason: "not a key-value write")
        }
        self.command = command
    }

    public func encode(into buffer: inout ByteBuffer) {
        command.encode(into: &buffer)
    }
}
