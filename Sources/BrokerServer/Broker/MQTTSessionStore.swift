import Logging
import MetaService
import NIOCore
import Shared

/// Reads and changes session records in meta (`/mqtt/sessions/<client id>`) by compare-and-set
/// on their modification revision, so that brokers and the session reaper that race on one record
/// each see the other's change and decide again.
public struct MQTTSessionStore: Sendable {
    /// What to do with a record, decided from its current value.
    public enum Change: Sendable {
        /// Write this record.
        case write(MQTTStoredSession)
        /// Delete the record.
        case delete
        /// Leave it as it is.
        case keep
    }

    /// The outcome of ``update(_:attempts:_:)``.
    public struct Outcome: Sendable {
        /// The record as the decision saw it (`nil`: absent or unreadable).
        public var before: MQTTStoredSession?
        /// The change that was applied (``Change/keep`` when nothing was written).
        public var applied: Change
        /// The store revision after the change (or when read, for ``Change/keep``).
        public var revision: UInt64
    }

    /// The meta cluster.
    public let meta: MetaClient

    /// A store over `meta`.
    public init(meta: MetaClient) { self.meta = meta }

    /// The record of `clientIdentifier` and its meta entry, if there is a readable one.
    public func read(_ clientIdentifier: String) async throws -> (MQTTStoredSession?, MetaKeyValue?) {
        let keyValue = try await meta.get(MQTTStoredSession.key(of: clientIdentifier)).keyValue
        return (keyValue.flatMap { try? MQTTStoredSession(decoding: $0.value) }, keyValue)
    }

    /// Reads the record, asks `decide` what to do with it and applies that by compare-and-set,
    /// deciding again on the newer value whenever someone else changed it in between.
    public func update(
        _ clientIdentifier: String, attempts: Int = 32, _ decide: (MQTTStoredSession?) throws -> Change
    ) async throws -> Outcome {
        let key = MQTTStoredSession.key(of: clientIdentifier)
        var keyValue = try await meta.get(key).keyValue
        for _ in 0..<attempts {
            let current = keyValue.flatMap { try? MQTTStoredSession(decoding: $0.value) }
            let change = try decide(current)
            let expect: MetaCommand.Expectation = keyValue.map { .modRevision($0.modRevision) } ?? .absent
            let value: [UInt8]?
            switch change {
            case .keep:
                return Outcome(before: current, applied: .keep, revision: keyValue?.modRevision ?? 0)
            case .delete:
                guard keyValue != nil else { return Outcome(before: nil, applied: .keep, revision: 0) }
                value = nil
            case .write(let record):
                value = try record.encode()
            }
            switch try await meta.compareAndSet(key, expect: expect, value: value) {
            case .written(let revision, _), .deleted(let revision, _):
                return Outcome(before: current, applied: change, revision: revision)
            case .compareFailed(_, let now):
                // Someone changed it (another broker or reaper making the same change counts: only
                // one of them may act on it, e.g. publish a will). A retried call of ours that was
                // applied with its answer lost also lands here; deciding again on the newer value
                // is then at worst a no-op.
                keyValue = now
            case .rejected(let error):
                throw error
            case .lease:
                throw RPCError(.internal, "unexpected lease result for \(key)")
            }
        }
        throw RPCError(.unavailable, "session record \(key) kept changing; gave up after \(attempts) attempts")
    }

    /// Every readable session record with its meta entry, and the store revision of the read.
    public func all() async throws -> (sessions: [(MQTTStoredSession, MetaKeyValue)], revision: UInt64) {
        let range = try await meta.range(prefix: MQTTStoredSession.keyPrefix)
        let sessions = range.keyValues.compactMap { keyValue in
            (try? MQTTStoredSession(decoding: keyValue.value)).map { ($0, keyValue) }
        }
        return (sessions, range.revision)
    }
}
