import Logging
import MetaService
import NIOConcurrencyHelpers
import NIOCore
import Shared

/// The broker's copy of the user records in meta (`/security/users/…`), kept fresh by a meta
/// watch on the prefix: one range read at start, then every change as it is applied. Lookups are
/// in memory (lock, dictionary), so authenticators may call them on an event loop.
///
/// When the watch fails (meta member gone, history compacted), it re-reads the prefix and
/// watches again from there, so no change is missed; records that do not parse are skipped with
/// a log line.
public final class MQTTUserDirectory: Sendable {
    private struct State {
        var users: [String: UserRecord] = [:]
        var loaded = false
        var task: Task<Void, Never>?
        var stopped = false
    }

    let logger: Logger
    private let state = NIOLockedValueBox(State())
    /// Pause between a failed watch and the next attempt.
    static let retryDelay = Duration.milliseconds(500)

    /// An empty directory; ``start(meta:)`` loads it.
    public init(logger: Logger) {
        self.logger = logger
    }

    /// Loads every user from `meta` (throws if meta cannot be read) and starts following changes.
    public func start(meta: MetaClient) async throws {
        let revision = try await reload(meta)
        let task = Task { [self] in await follow(meta, from: revision + 1) }
        let stopped = state.withLockedValue { state -> Bool in
            state.task = task
            return state.stopped
        }
        if stopped { task.cancel() }
    }

    /// Stops following changes (lookups keep answering from the last known state).
    public func stop() {
        let task = state.withLockedValue { state -> Task<Void, Never>? in
            state.stopped = true
            defer { state.task = nil }
            return state.task
        }
        task?.cancel()
    }

    /// The record of `username` in `tenant`, if there is one.
    public func user(tenant: String = UserRecord.defaultTenant, username: String) -> UserRecord? {
        let key = UserRecord.key(tenant: tenant, username: username)
        return state.withLockedValue { $0.users[key] }
    }

    /// The number of users known.
    public var count: Int { state.withLockedValue { $0.users.count } }

    /// Whether the first load completed.
    public var isLoaded: Bool { state.withLockedValue { $0.loaded } }

    // MARK: Following meta

    /// Replaces the cache with the prefix's current records; returns the revision read at.
    private func reload(_ meta: MetaClient) async throws -> UInt64 {
        let range = try await meta.range(prefix: UserRecord.prefix)
        var users: [String: UserRecord] = [:]
        for record in range.keyValues {
            if let user = parse(record) { users[record.key] = user }
        }
        install(users)
        logger.info("mqtt users loaded", metadata: ["users": "\(users.count)", "revision": "\(range.revision)"])
        return range.revision
    }

    /// Replaces every record (keyed by meta key).
    func install(_ users: [String: UserRecord]) {
        state.withLockedValue { state in
            state.users = users
            state.loaded = true
        }
    }

    private func follow(_ meta: MetaClient, from revision: UInt64) async {
        var next = revision
        while !Task.isCancelled {
            do {
                for try await batch in meta.watch(prefix: UserRecord.prefix, fromRevision: next) {
                    apply(batch.events)
                    if let last = batch.events.last { next = last.revision + 1 }
                }
                if Task.isCancelled { return }
                logger.notice("mqtt user watch ended; re-reading users")
            } catch {
                if Task.isCancelled { return }
                logger.warning("mqtt user watch failed; re-reading users", metadata: ["error": "\(error)"])
            }
            do {
                try await Task.sleep(for: Self.retryDelay)
                next = try await reload(meta) + 1
            } catch {
                if Task.isCancelled { return }
                logger.warning("mqtt users not re-read", metadata: ["error": "\(error)"])
            }
        }
    }

    private func apply(_ events: [WatchEvent]) {
        var changes: [(String, UserRecord?)] = []
        for event in events {
            switch event.kind {
            case .put: changes.append((event.keyValue.key, parse(event.keyValue)))
            case .delete: changes.append((event.keyValue.key, nil))
            }
        }
        state.withLockedValue { state in
            for (key, user) in changes { state.users[key] = user }
        }
    }

    private func parse(_ record: MetaKeyValue) -> UserRecord? {
        do {
            let user = try UserRecord(bytes: record.value)
            guard user.key == record.key else {
                logger.warning("mqtt user record under the wrong key ignored", metadata: ["key": "\(record.key)"])
                return nil
            }
            return user
        } catch {
            logger.warning("mqtt user record ignored", metadata: ["key": "\(record.key)", "error": "\(error)"])
            return nil
        }
    }
}
