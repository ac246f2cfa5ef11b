import Foundation
import Synchronization
import Logging
import Metrics

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The security audit trail of a node: one JSON object per line in `<data-dir>/audit.log`,
/// appended and fsynced per batch on a background queue (never on an event loop), and counted
/// in `tributary_audit_events_total{event=…}`.
///
/// Events: authentication failures (client id, user, peer address, reason — never a password)
/// and administrative changes (ACL rules, bans, users) as the node applies them. Call
/// ``record(_:_:)`` from anywhere; ``flush()`` waits until everything recorded so far is on disk.
public final class AuditLog: Sendable {
    /// The file.
    public let path: String
    private let logger: Logger
    private let queue = DispatchQueue(label: "tributary.audit")
    private let state = Mutex(State())
    private let descriptor: Int32

    private struct State: Sendable {
        var pending: [String] = []
        var scheduled = false
        var counters: [String: Counter] = [:]
    }

    /// Opens (creating if needed, appending to) `path`. Throws when the file cannot be opened.
    public init(path: String, logger: Logger) throws {
        self.path = path
        self.logger = logger
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw AuditLogError(path: path, reason: String(cString: strerror(errno)))
        }
        descriptor = fd
    }

    deinit {
        close(descriptor)
    }

    /// Appends an event: `event` names it (`auth.failure`, `acl.put`, …), `fields` add details.
    /// A field whose name contains `password` or `secret` is dropped.
    public func record(_ event: String, _ fields: [String: String]) {
        var object = fields.filter { !$0.key.lowercased().contains("password") && !$0.key.lowercased().contains("secret") }
        object["event"] = event
        object["time"] = Self.timestamp(Date())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(object) else { return }
        let line = String(decoding: data, as: UTF8.self) + "\n"
        let schedule = state.withLock { state in
            if state.counters[event] == nil {
                state.counters[event] = Counter(label: "tributary_audit_events_total", dimensions: [("event", event)])
            }
            state.counters[event]?.increment()
            state.pending.append(line)
            defer { state.scheduled = true }
            return !state.scheduled
        }
        if schedule { queue.async { self.writePending() } }
    }

    /// An authentication failure: the client id, user name, peer address and reason (never the
    /// password).
    public func recordAuthenticationFailure(clientID: String, user: String?, peer: String?, reason: String) {
        var fields = ["client_id": clientID, "reason": reason]
        if let user { fields["user"] = user }
        if let peer { fields["peer"] = peer }
        record("auth.failure", fields)
    }

    /// Waits until every event recorded before the call is written and fsynced.
    public func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                self.writePending()
                continuation.resume()
            }
        }
    }

    private func writePending() {
        let lines = state.withLock { state in
            defer { state.pending = []; state.scheduled = false }
            return state.pending
        }
        guard !lines.isEmpty else { return }
        let bytes = Array(lines.joined().utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if result < 0 {
                if errno == EINTR { continue }
                logger.error("audit log not written", metadata: ["path": "\(path)", "error": "\(String(cString: strerror(errno)))"])
                return
            }
            written += result
        }
        if fsync(descriptor) != 0 {
            logger.error("audit log not synced", metadata: ["path": "\(path)", "error": "\(String(cString: strerror(errno)))"])
        }
    }

    private static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

/// The audit log file cannot be opened.
public struct AuditLogError: Error, CustomStringConvertible {
    /// The file.
    public var path: String
    /// Why.
    public var reason: String

    public var description: String { "audit log '\(path)' cannot be opened: \(reason)" }
}
