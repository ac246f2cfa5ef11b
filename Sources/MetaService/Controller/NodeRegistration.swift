import Foundation
import Logging
import Shared

/// Keeps one node registered in meta under `/nodes/<role>/<id>` (a ``NodeRecord``) with a
/// lease: grants the lease, writes the record under it, renews it every third of its TTL,
/// registers again with a new lease when the old one was lost (renewal refused, or not renewed
/// for a whole TTL), and revokes it when the run is cancelled (graceful shutdown), so the node
/// shows as gone at once. A node killed without shutdown disappears when the lease expires.
public struct NodeRegistration: Sendable {
    /// The meta client to register through.
    public let client: MetaClient
    /// What to register (its `lease` is ignored: the granted one is used).
    public let record: NodeRecord
    /// The lease TTL, milliseconds.
    public let ttlMillis: UInt64
    private let logger: Logger

    /// Creates a registration of `record` with leases of `ttlMillis`.
    public init(client: MetaClient, record: NodeRecord, ttlMillis: UInt64, logger: Logger) {
        self.client = client
        self.record = record
        self.ttlMillis = ttlMillis
        self.logger = logger
    }

    /// The current time in Unix milliseconds (for ``NodeRecord/startedAtMillis``).
    public static func nowMillis() -> UInt64 {
        UInt64(max(0, Date().timeIntervalSince1970 * 1000))
    }

    /// Registers and keeps the registration alive until the calling task is cancelled, then
    /// revokes the lease. `registered` is told `true` each time the node is (re-)registered and
    /// `false` when the registration is lost.
    public func run(registered: @escaping @Sendable (Bool) -> Void = { _ in }) async {
        let ttl = Duration.milliseconds(Int64(clamping: ttlMillis))
        let key = record.key
        var lease: UInt64 = 0
        var lastRenewal = ContinuousClock.now
        while !Task.isCancelled {
            let current = lease
            do {
                if current == 0 {
                    let granted = try await client.grantLease(ttlMillis: ttlMillis).id
                    var value = record
                    value.lease = granted
                    lease = granted
                    try await client.put(key, value.encodedBytes, lease: granted)
                    lastRenewal = ContinuousClock.now
                    registered(true)
                    logger.info("registered in meta", metadata: ["key": "\(key)", "lease": "\(granted)"])
                } else {
                    try await client.keepAlive(lease: current)
                    lastRenewal = ContinuousClock.now
                }
            } catch {
                if Task.isCancelled { break }
                logger.warning("meta registration failed; retrying", metadata: ["key": "\(key)", "error": "\(error)"])
                let refused = (error as? RPCError)?.code == .notFound
                if lease != 0 && (refused || ContinuousClock.now - lastRenewal >= ttl) {
                    // A lease not renewed for a whole TTL is gone: register again with a new one.
                    lease = 0
                    registered(false)
                }
            }
            try? await Task.sleep(for: ttl / 3)
        }
        let last = lease
        guard last != 0 else { return }
        // Revoke outside the cancelled task, so the call is not cut short by the cancellation.
        let client = self.client
        await Task { _ = try? await client.revokeLease(last) }.value
    }
}
