import NIOCore
import Shared

extension ShardStoreError {
    /// The ``RPCError`` a ``JournalService`` answers with (see ``JournalAPI`` for the codes).
    public var rpcError: RPCError {
        switch self {
        case .invalidShardName, .invalidSettings, .invalidRecords: RPCError(.invalidArgument, description)
        case .shardNotFound, .shardDeleted: RPCError(.notFound, description)
        case .shardExists: RPCError(.alreadyExists, description)
        case .shardBusy, .closed: RPCError(.unavailable, description)
        case .offsetOutOfRange(_, _, let start, let end):
            RPCError(.failedPrecondition, description, detail: Self.rangeDetail(start: start, end: end))
        case .storage: RPCError(.internal, description)
        }
    }

    static func rangeDetail(start: Int64, end: Int64) -> ByteBuffer {
        var detail = ByteBuffer()
        detail.writeSignedVarint(start)
        detail.writeSignedVarint(end)
        return detail
    }

    /// Maps any error of the store (or a handler) to an ``RPCError``.
    static func rpcError(from error: any Error) -> RPCError {
        switch error {
        case let rpc as RPCError: rpc
        case let store as ShardStoreError: store.rpcError
        case let topic as TopicFilterError: RPCError(.invalidArgument, topic.description)
        default: RPCError(.internal, String(describing: error))
        }
    }
}
