import Logging
import NIOCore
import Shared

extension MetaNode {
    /// Keeps the lease tracker in step with applied lease commands (on every member, so a new
    /// leader starts from the full set).
    func trackLeases(_ command: MetaCommand, _ result: MetaCommandResult) {
        guard case .lease = result else { return }
        switch command {
        case .grantLease(let id, let ttl):
            leases[id] = TrackedLease(ttlMillis: ttl, deadline: .now() + .milliseconds(Int64(clamping: ttl)))
        case .revokeLease(let id):
            leases.removeValue(forKey: id)
            revoking.remove(id)
        default:
            break
        }
    }

    /// On the leader: proposes `revokeLease` for every lease not kept alive within its TTL.
    func expireLeases() {
        guard raft.role == .leader, !leases.isEmpty else { return }
        let now = NIODeadline.now()
        for (id, lease) in leases where lease.deadline <= now && !revoking.contains(id) {
            revoking.insert(id)
            logger.info("lease expired; revoking", metadata: ["lease": "\(id)"])
            propose(.revokeLease(id: id)).whenFailure { _ in self.revoking.remove(id) }
        }
    }

    /// On the leader: renews lease `id` for a full TTL.
    func keepAlive(_ id: UInt64) -> Result<MetaLeaseResponse, RPCError> {
        guard raft.role == .leader else { return .failure(rpcError(.notLeader(leader: raft.leaderID))) }
        guard let lease = leases[id], store.lease(id) != nil else {
            return .failure(RPCError(.notFound, MetaError.leaseNotFound(id).description))
        }
        leases[id]?.deadline = .now() + .milliseconds(Int64(clamping: lease.ttlMillis))
        return .success(MetaLeaseResponse(id: id, ttlMillis: lease.ttlMillis, revision: store.revision))
    }

    /// On the leader: every tracked lease with the time left before it is revoked.
    func leaseList() -> Result<MetaLeaseListResponse, RPCError> {
        guard raft.role == .leader else { return .failure(rpcError(.notLeader(leader: raft.leaderID))) }
        let now = NIODeadline.now()
        let leases = self.leases.sorted { $0.key < $1.key }.map { id, lease in
            let left = lease.deadline - now
            return MetaLeaseListResponse.Lease(
                id: id, ttlMillis: lease.ttlMillis, remainingMillis: UInt64(max(0, left.nanoseconds / 1_000_000)))
        }
        return .success(MetaLeaseListResponse(leases: leases))
    }

    /// A fresh lease id on the leader (random, not in use).
    func newLeaseID() -> UInt64 {
        while true {
            let id = UInt64.random(in: 1...(1 << 62))
            if store.lease(id) == nil && leases[id] == nil { return id }
        }
    }
}
