import NIOCore
import Shared

/// `meta.leaseList`'s answer: every lease the leader tracks, by id. Wire: varint count, then per
/// lease varint id, varint TTL ms, varint remaining ms.
public struct MetaLeaseListResponse: RPCMessage, Equatable {
    /// One lease.
    public struct Lease: Equatable, Sendable {
        /// The lease id.
        public var id: UInt64
        /// Its time to live, milliseconds.
        public var ttlMillis: UInt64
        /// Time left before the leader revokes it unless kept alive, milliseconds (0: due now).
        public var remainingMillis: UInt64

        /// Creates a lease entry.
        public init(id: UInt64, ttlMillis: UInt64, remainingMillis: UInt64) {
            self.id = id
            self.ttlMillis = ttlMillis
            self.remainingMillis = remainingMillis
        }
    }

    /// Most leases in one answer.
    public static let maxLeases = 1 << 20

    /// The leases, sorted by id.
    public var leases: [Lease]

    /// Creates a response.
    public init(leases: [Lease]) { self.leases = leases }

    public init(rpcBody buffer: inout ByteBuffer) throws {
        let count = try buffer.readLength("lease count", limit: Self.maxLeases)
        var leases: [Lease] = []
        leases.reserveCapacity(min(count, 1024))
        for _ in 0..<count {
            leases.append(Lease(id: try buffer.readVarint(), ttlMillis: try buffer.readVarint(), remainingMillis: try buffer.readVarint()))
        }
        self.leases = leases
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeVarint(UInt64(leases.count))
        for lease in leases {
            buffer.writeVarint(lease.id)
            buffer.writeVarint(lease.ttlMillis)
            buffer.writeVarint(lease.remainingMillis)
        }
    }
}
