import NIOCore
import Shared

extension MetaNode {
    /// Registers every ``MetaAPI`` method on `router`. Handlers hop to the node's loop and
    /// answer on the call's loop.
    public func register(into router: inout RPCRouter) {
        router.register(MetaAPI.raftStep) { request, context in
            self.eventLoop.execute { self.step(request.messages) }
            return context.eventLoop.makeSucceededFuture(RPCEmpty())
        }
        router.register(MetaAPI.put) { request, context in
            self.write(.put(key: request.key, value: request.value, lease: request.lease), context)
        }
        router.register(MetaAPI.delete) { request, context in
            self.write(request.prefix ? .deletePrefix(prefix: request.key) : .delete(key: request.key), context)
        }
        router.register(MetaAPI.cas) { request, context in
            self.write(request.command, context)
        }
        router.register(MetaAPI.forwardWrite) { request, context in
            self.eventLoop.flatSubmit { self.proposeWrite(request.command) }.hop(to: context.eventLoop)
        }
        router.register(MetaAPI.get) { request, context in
            self.read(serializable: request.serializable, context) {
                MetaGetResponse(revision: self.store.revision, keyValue: self.store.get(request.key))
            }
        }
        router.register(MetaAPI.range) { request, context in
            self.read(serializable: request.serializable, context) {
                let limit = request.limit == 0 ? Int.max : Int(clamping: request.limit)
                return MetaRangeResponse(revision: self.store.revision, keyValues: self.store.range(prefix: request.prefix, limit: limit))
            }
        }
        router.register(MetaAPI.watch) { request, writer, context in
            self.eventLoop.flatSubmit { self.watch(request, writer: writer, context: context) }.hop(to: context.eventLoop)
        }
        router.register(MetaAPI.status) { _, context in
            self.eventLoop.submit { self.status() }.hop(to: context.eventLoop)
        }
        router.register(MetaAPI.leaseGrant) { request, context in
            self.eventLoop.flatSubmit { () -> EventLoopFuture<MetaLeaseResponse> in
                guard self.raft.role == .leader else {
                    return self.eventLoop.makeFailedFuture(self.rpcError(.notLeader(leader: self.raft.leaderID)))
                }
                let id = request.id == 0 ? self.newLeaseID() : request.id
                return self.propose(.grantLease(id: id, ttlMillis: request.ttlMillis)).flatMapThrowing { result in
                    MetaLeaseResponse(id: id, ttlMillis: request.ttlMillis, revision: try Self.revision(of: result))
                }
            }.hop(to: context.eventLoop)
        }
        router.register(MetaAPI.leaseKeepAlive) { request, context in
            self.eventLoop.submit { try self.keepAlive(request.id).get() }.hop(to: context.eventLoop)
        }
        router.register(MetaAPI.leaseList) { _, context in
            self.eventLoop.submit { try self.leaseList().get() }.hop(to: context.eventLoop)
        }
        router.register(MetaAPI.leaseRevoke) { request, context in
            self.eventLoop.flatSubmit {
                self.propose(.revokeLease(id: request.id)).flatMapThrowing { result in
                    MetaLeaseResponse(id: request.id, ttlMillis: 0, revision: try Self.revision(of: result))
                }
            }.hop(to: context.eventLoop)
        }
        router.register(MetaAPI.addMember) { request, context in
            self.eventLoop.flatSubmit { self.addMember(request) }.hop(to: context.eventLoop)
        }
        router.register(MetaAPI.removeMember) { request, context in
            self.eventLoop.flatSubmit { self.removeMember(request.id) }.hop(to: context.eventLoop)
        }
        router.register(MetaAPI.transferLeader) { request, context in
            self.eventLoop.submit { () throws -> RPCEmpty in
                do throws(RaftError) {
                    try self.raft.transferLeadership(to: request.id)
                } catch {
                    throw self.rpcError(error)
                }
                self.drive()
                return RPCEmpty()
            }.hop(to: context.eventLoop)
        }
    }

    /// A client's key-value write: proposed on the leader, forwarded to the leader by a
    /// follower that knows one.
    private func write(_ command: MetaCommand, _ context: RPCCallContext) -> EventLoopFuture<MetaWriteResponse> {
        onNodeLoop(context) {
            if self.raft.role != .leader, let forwarded = self.forwardToLeader(command, deadline: context.deadline) {
                return forwarded
            }
            return self.proposeWrite(command)
        }
    }

    /// Runs `body` on the node's loop and answers on the call's loop; without any hop when the
    /// call arrived on the node's loop.
    private func onNodeLoop<Response: Sendable>(
        _ context: RPCCallContext, _ body: @escaping @Sendable () -> EventLoopFuture<Response>
    ) -> EventLoopFuture<Response> {
        if eventLoop.inEventLoop && context.eventLoop.inEventLoop { return body().hop(to: context.eventLoop) }
        return eventLoop.flatSubmit(body).hop(to: context.eventLoop)
    }

    /// Proposes a write here (fails `notLeader`/`unavailable` unless this node leads).
    private func proposeWrite(_ command: MetaCommand) -> EventLoopFuture<MetaWriteResponse> {
        propose(command).flatMapThrowing { result in
            guard let result else { throw RPCError(.internal, "the write produced no result") }
            if case .rejected(let error) = result { throw Self.rpcError(error) }
            return MetaWriteResponse(result: result)
        }
    }

    /// Sends `command` to the leader this follower knows, or `nil` when none is known (or
    /// reachable by address). The leader's answer (or error) is the caller's.
    private func forwardToLeader(_ command: MetaCommand, deadline: NIODeadline?) -> EventLoopFuture<MetaWriteResponse>? {
        let leader = raft.leaderID
        guard leader != 0, leader != configuration.id, MetaForwardWriteRequest.isForwardable(command),
              let transport = transport(to: leader)
        else { return nil }
        let options = deadline.map { RPCCallOptions(deadline: $0) } ?? .timeout(.seconds(5))
        return transport.callFuture(MetaAPI.forwardWrite, MetaForwardWriteRequest(command: command), options: options)
    }

    private func read<Response: Sendable>(
        serializable: Bool, _ context: RPCCallContext, _ body: @escaping @Sendable () -> Response
    ) -> EventLoopFuture<Response> {
        onNodeLoop(context) {
            if serializable { return self.eventLoop.makeSucceededFuture(body()) }
            return self.readBarrier().map { body() }
        }
    }

    /// This node's view of the cluster.
    func status() -> MetaStatusResponse {
        let configuration = raft.configuration
        let members = configuration.members.sorted().map { id in
            MetaMemberStatus(
                id: id, voter: configuration.voters.contains(id), address: address(of: id),
                match: id == self.configuration.id ? raft.log.lastIndex : (raft.progress[id]?.match ?? 0)
            )
        }
        return MetaStatusResponse(
            id: self.configuration.id, role: raft.role, term: raft.term, leader: raft.leaderID,
            leaderAddress: raft.leaderID == 0 ? "" : address(of: raft.leaderID),
            commit: raft.log.committed, applied: appliedIndex, revision: store.revision, members: members
        )
    }

    private func addMember(_ request: MetaAddMemberRequest) -> EventLoopFuture<RPCEmpty> {
        guard request.id != 0, !request.address.isEmpty else {
            return eventLoop.makeFailedFuture(RPCError(.invalidArgument, "a member needs a non-zero id and an address"))
        }
        // Replicate the address first, so every member can reach the new one once it is added.
        return propose(.put(key: Self.memberKeyPrefix + String(request.id), value: Array(request.address.utf8), lease: 0))
            .flatMapThrowing { _ -> RaftConfChange in
                let configuration = self.raft.configuration
                if request.learner { return .addLearner(request.id) }
                return configuration.learners.contains(request.id) ? .promoteLearner(request.id) : .addVoter(request.id)
            }
            .flatMap { change in self.proposeChange(change) }
    }

    private func removeMember(_ id: RaftNodeID) -> EventLoopFuture<RPCEmpty> {
        let change: RaftConfChange = raft.configuration.learners.contains(id) ? .removeLearner(id) : .removeVoter(id)
        return proposeChange(change)
    }

    private func proposeChange(_ change: RaftConfChange) -> EventLoopFuture<RPCEmpty> {
        let promise = eventLoop.makePromise(of: MetaCommandResult?.self)
        do {
            let index = try raft.proposeConfChange(change)
            proposals[index] = PendingProposal(term: raft.term, promise: promise)
            drive()
        } catch {
            promise.fail(rpcError(error))
        }
        return promise.futureResult.map { _ in RPCEmpty() }
    }

    static func revision(of result: MetaCommandResult?) throws -> UInt64 {
        switch result {
        case .lease(let revision)?: return revision
        case .rejected(let error)?: throw rpcError(error)
        default: throw RPCError(.internal, "unexpected result \(String(describing: result))")
        }
    }

    static func rpcError(_ error: MetaError) -> RPCError {
        switch error {
        case .invalidKey, .valueTooLarge: RPCError(.invalidArgument, error.description)
        case .leaseNotFound: RPCError(.notFound, error.description)
        case .leaseExists: RPCError(.alreadyExists, error.description)
        case .compacted: RPCError(.failedPrecondition, error.description)
        }
    }
}
