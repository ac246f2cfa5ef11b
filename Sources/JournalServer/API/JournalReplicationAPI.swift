import NIOCore
import Shared

/// The replication methods of the Journal service (service 3), between journal nodes: a
/// segment leader's pushes to its followers and meta's seal requests. Bodies carry the shard
/// name and a ``ReplicationMessage`` (see docs/journal-replication.md for its encoding).
///
/// Errors: no replica of that shard segment on the node → `notFound`; the replica has the
/// other role → `failedPrecondition`; a malformed body → `invalidArgument`.
public enum JournalReplicationAPI {
    /// Leader → follower: a push; the answer is the follower's ack or reject.
    public static let replicate = RPCMethod<JournalReplicateRequest, ReplicationMessage>(
        id: JournalAPI.serviceID << 16 | 0x10, name: "journal.replicate")
    /// Meta → replica: a seal request; the answer is the seal response.
    public static let seal = RPCMethod<JournalReplicateRequest, ReplicationMessage>(
        id: JournalAPI.serviceID << 16 | 0x11, name: "journal.sealSegment")
}

/// A ``ReplicationMessage`` addressed to a shard's segment replica. Wire: shard name, then the
/// message's own encoding.
public struct JournalReplicateRequest: RPCMessage, Hashable {
    /// The shard.
    public var shard: String
    /// The push or seal request (its segment id names the segment).
    public var message: ReplicationMessage

    /// Creates a request.
    public init(shard: String, message: ReplicationMessage) {
        self.shard = shard
        self.message = message
    }

    public init(rpcBody buffer: inout ByteBuffer) throws {
        shard = try buffer.readShardName()
        message = try ReplicationMessage(rpcBody: &buffer)
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeLengthPrefixed(string: shard)
        message.encode(into: &buffer)
    }
}
