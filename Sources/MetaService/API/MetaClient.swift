import NIOConcurrencyHelpers
import NIOCore
import Shared

/// A typed client of a MetaService cluster over any ``RPCTransport``s.
///
/// Give it the members' addresses (any subset) and a way to make a transport to an address.
/// Every call goes to the member it last found useful: a `notLeader` answer redirects it to the
/// leader named in the error's detail; `unavailable` and per-attempt timeouts move it to the next
/// member after a short backoff; other errors are thrown. Retries stop at the call's deadline
/// (``Options/timeout``), which then throws the last error seen.
///
/// A retried write may be applied twice if the first attempt was committed but its answer was
/// lost (puts and deletes are idempotent; a compare-and-set then reports `compareFailed`).
public final class MetaClient: Sendable {
    /// Retry settings.
    public struct Options: Sendable {
        /// The total time a call may take, retries included.
        public var timeout: TimeAmount
        /// The longest single attempt.
        public var attemptTimeout: TimeAmount
        /// Pause before retrying another member.
        public var backoff: TimeAmount

        /// Creates options.
        public init(timeout: TimeAmount = .seconds(10), attemptTimeout: TimeAmount = .seconds(2), backoff: TimeAmount = .milliseconds(50)) {
            self.timeout = timeout
            self.attemptTimeout = attemptTimeout
            self.backoff = backoff
        }
    }

    private struct State {
        var addresses: [String]
        var current: Int
        var transports: [String: any RPCTransport]
    }

    /// The retry settings.
    public let options: Options
    private let connect: @Sendable (String) -> any RPCTransport
    private let state: NIOLockedValueBox<State>

    /// Creates a client of the members at `addresses`.
    public init(addresses: [String], options: Options = Options(), connect: @escaping @Sendable (String) -> any RPCTransport) {
        precondition(!addresses.isEmpty, "a MetaClient needs at least one member address")
        self.options = options
        self.connect = connect
        self.state = NIOLockedValueBox(State(addresses: addresses, current: 0, transports: [:]))
    }

    // MARK: Key-value

    /// Sets `key`; returns the write's result (`.written`).
    @discardableResult
    public func put(_ key: String, _ value: [UInt8], lease: UInt64 = 0) async throws -> MetaCommandResult {
        try await call(MetaAPI.put, MetaPutRequest(key: key, value: value, lease: lease)).result
    }

    /// Reads `key` (linearizable unless `serializable`).
    public func get(_ key: String, serializable: Bool = false) async throws -> MetaGetResponse {
        try await call(MetaAPI.get, MetaGetRequest(key: key, serializable: serializable))
    }

    /// Reads the keys under `prefix`.
    public func range(prefix: String, limit: UInt64 = 0, serializable: Bool = false) async throws -> MetaRangeResponse {
        try await call(MetaAPI.range, MetaRangeRequest(prefix: prefix, limit: limit, serializable: serializable))
    }

    /// Deletes `key` (or every key under it when `prefix`).
    @discardableResult
    public func delete(_ key: String, prefix: Bool = false) async throws -> MetaCommandResult {
        try await call(MetaAPI.delete, MetaDeleteRequest(key: key, prefix: prefix)).result
    }

    /// Compare-and-set; `value` nil deletes.
    public func compareAndSet(_ key: String, expect: MetaCommand.Expectation, value: [UInt8]?, lease: UInt64 = 0) async throws -> MetaCommandResult {
        try await call(MetaAPI.cas, MetaCASRequest(key: key, expect: expect, value: value, lease: lease)).result
    }

    // MARK: Leases

    /// Grants a lease (`id` 0: the leader picks one).
    public func grantLease(ttlMillis: UInt64, id: UInt64 = 0) async throws -> MetaLeaseResponse {
        try await call(MetaAPI.leaseGrant, MetaLeaseGrantRequest(id: id, ttlMillis: ttlMillis))
    }

    /// Renews a lease for its full TTL.
    @discardableResult
    public func keepAlive(lease id: UInt64) async throws -> MetaLeaseResponse {
        try await call(MetaAPI.leaseKeepAlive, MetaIDRequest(id: id))
    }

    /// Ends a lease and deletes its keys.
    @discardableResult
    public func revokeLease(_ id: UInt64) async throws -> MetaLeaseResponse {
        try await call(MetaAPI.leaseRevoke, MetaIDRequest(id: id))
    }

    /// Every lease with its TTL and time left (asked of the leader).
    public func leases() async throws -> [MetaLeaseListResponse.Lease] {
        try await call(MetaAPI.leaseList, RPCEmpty()).leases
    }

    // MARK: Cluster

    /// The status of the member at `address` (no redirect).
    public func status(of address: String) async throws -> MetaStatusResponse {
        try await transport(for: address).call(MetaAPI.status, RPCEmpty(), options: .timeout(options.attemptTimeout))
    }

    /// The transport this client uses for the member at `address` (made on first use), for
    /// calls to one specific member of another service (such as `node.status`).
    public func transport(to address: String) -> any RPCTransport {
        transport(for: address)
    }

    /// The leader's status (found by asking members and following `leaderAddress`).
    public func leaderStatus() async throws -> MetaStatusResponse {
        let deadline = NIODeadline.now() + options.timeout
        var lastError = RPCError(.unavailable, "no leader found")
        while NIODeadline.now() < deadline {
            let address = currentAddress()
            do {
                let status = try await self.status(of: address)
                if status.role == .leader { return status }
                if !status.leaderAddress.isEmpty { redirect(to: status.leaderAddress) } else { rotate(from: address) }
            } catch {
                lastError = (error as? RPCError) ?? RPCError(.unavailable, "\(error)")
                rotate(from: address)
            }
            try await Task.sleep(nanoseconds: UInt64(options.backoff.nanoseconds))
        }
        throw lastError
    }

    /// Adds a member (or promotes a learner when `learner` is false and it is one).
    public func addMember(id: RaftNodeID, address: String, learner: Bool = false) async throws {
        _ = try await call(MetaAPI.addMember, MetaAddMemberRequest(id: id, address: address, learner: learner))
    }

    /// Removes a member.
    public func removeMember(id: RaftNodeID) async throws {
        _ = try await call(MetaAPI.removeMember, MetaIDRequest(id: id))
    }

    /// Hands leadership to voter `id`.
    public func transferLeader(to id: RaftNodeID) async throws {
        _ = try await call(MetaAPI.transferLeader, MetaIDRequest(id: id))
    }

    // MARK: Watches

    /// Watches `prefix` from `fromRevision` (0: changes from now on) on the current member.
    public func watch(prefix: String, fromRevision: UInt64 = 0) -> RPCResponseStream<MetaWatchResponse> {
        transport(for: currentAddress()).stream(MetaAPI.watch, MetaWatchRequest(prefix: prefix, fromRevision: fromRevision))
    }

    /// Closes every socket transport it opened.
    public func close() async {
        let transports = state.withLockedValue { state in
            defer { state.transports = [:] }
            return Array(state.transports.values)
        }
        for transport in transports {
            if let client = transport as? RPCClient { await client.shutdown() }
        }
    }

    // MARK: Retry machinery

    /// Calls `method`, following redirects and retrying until ``Options/timeout``.
    public func call<Request, Response>(_ method: RPCMethod<Request, Response>, _ request: Request) async throws -> Response {
        let deadline = NIODeadline.now() + options.timeout
        var lastError = RPCError(.deadlineExceeded, "\(method.name): no member answered in time")
        while true {
            let remaining = deadline - NIODeadline.now()
            guard remaining > .zero else { throw lastError }
            let address = currentAddress()
            do {
                let attempt = RPCCallOptions(timeout: min(remaining, options.attemptTimeout))
                return try await transport(for: address).call(method, request, options: attempt)
            } catch let error as RPCError {
                lastError = error
                switch error.code {
                case .notLeader:
                    let leader = error.detail.map { String(buffer: $0) } ?? ""
                    if leader.isEmpty || leader == address { rotate(from: address) } else { redirect(to: leader); continue }
                case .unavailable, .deadlineExceeded:
                    rotate(from: address)
                default:
                    throw error
                }
            }
            try await Task.sleep(nanoseconds: UInt64(max(0, options.backoff.nanoseconds)))
        }
    }

    private func currentAddress() -> String {
        state.withLockedValue { $0.addresses[$0.current % $0.addresses.count] }
    }

    private func rotate(from address: String) {
        state.withLockedValue { state in
            if state.addresses[state.current % state.addresses.count] == address {
                state.current = (state.current + 1) % state.addresses.count
            }
        }
    }

    private func redirect(to address: String) {
        state.withLockedValue { state in
            if let index = state.addresses.firstIndex(of: address) {
                state.current = index
            } else {
                state.addresses.append(address)
                state.current = state.addresses.count - 1
            }
        }
    }

    private func transport(for address: String) -> any RPCTransport {
        state.withLockedValue { state in
            if let known = state.transports[address] { return known }
            let made = connect(address)
            state.transports[address] = made
            return made
        }
    }
}
