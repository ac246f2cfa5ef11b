import Foundation
import Logging
import MetaService
import NIOConcurrencyHelpers
import NIOCore
import Shared

extension MQTTAccessControl {
    /// Loads the ACL rules and bans from meta and follows them with watches (no polling) until
    /// ``stop()``; connected clients that become banned are disconnected. Returns once both
    /// are loaded the first time (or `timeout` passed, logging why).
    public func start(broker: MQTTBroker, meta: MetaClient, timeout: Duration = .seconds(30)) async {
        self.broker.withLockedValue { $0 = broker }
        let loaded = AsyncStream<Void>.makeStream()
        let continuation = loaded.continuation
        let stream = loaded.stream
        // Each follower reports its first load once (later reloads after a broken watch do not).
        let reported = NIOLockedValueBox<Set<String>>([])
        let firstLoad: @Sendable (String) -> Void = { prefix in
            if reported.withLockedValue({ $0.insert(prefix).inserted }) { continuation.yield() }
        }
        let acl = Task {
            await Self.follow(prefix: ACLRecord.prefix, meta: meta, logger: logger) { records, events in
                self.applyRules(records, events: events)
                if events == nil { firstLoad(ACLRecord.prefix) }
            }
        }
        let bans = Task {
            await Self.follow(prefix: BlacklistRecord.prefix, meta: meta, logger: logger) { records, events in
                self.applyBans(records, events: events)
                if events == nil { firstLoad(BlacklistRecord.prefix) }
            }
        }
        followers.withLockedValue { $0 = [acl, bans] }
        let waiter = Task {
            var count = 0
            for await _ in stream {
                count += 1
                if count == 2 { return true }
            }
            return false
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            continuation.finish()
        }
        if !(await waiter.value) {
            logger.error("mqtt ACL rules or bans not loaded from meta in time; following on")
        }
        timer.cancel()
        continuation.finish()
    }

    /// Stops following meta.
    public func stop() {
        let tasks = followers.withLockedValue { tasks in
            defer { tasks = [] }
            return tasks
        }
        for task in tasks { task.cancel() }
        broker.withLockedValue { $0 = nil }
    }

    /// Range then watch `prefix`, calling `apply` with every record after the load (`events`
    /// nil) and after each watch batch (with its events); on any failure starts over after a
    /// second.
    static func follow(
        prefix: String, meta: MetaClient, logger: Logger,
        apply: @Sendable ([String: [UInt8]], [WatchEvent]?) -> Void
    ) async {
        while !Task.isCancelled {
            do {
                let range = try await meta.range(prefix: prefix)
                var records: [String: [UInt8]] = [:]
                for record in range.keyValues { records[record.key] = record.value }
                apply(records, nil)
                for try await batch in meta.watch(prefix: prefix, fromRevision: range.revision + 1) {
                    for event in batch.events {
                        switch event.kind {
                        case .put: records[event.keyValue.key] = event.keyValue.value
                        case .delete: records[event.keyValue.key] = nil
                        }
                    }
                    apply(records, batch.events)
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("mqtt security watch failed; reloading", metadata: ["prefix": "\(prefix)", "error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func applyRules(_ records: [String: [UInt8]], events: [WatchEvent]?) {
        var byTenant: [String: [ACLRule]] = [:]
        for (key, value) in records {
            do {
                let record = try ACLRecord(decoding: value)
                byTenant[record.tenant, default: []].append(try record.rule())
            } catch {
                logger.error("mqtt ACL rule ignored", metadata: ["key": "\(key)", "error": "\(error)"])
            }
        }
        setRules(byTenant)
        let total = byTenant.values.reduce(0) { $0 + $1.count }
        logger.info("mqtt ACL rules applied", metadata: ["rules": "\(total)"])
        for event in events ?? [] { auditChange(event, kind: "acl") }
    }

    private func applyBans(_ records: [String: [UInt8]], events: [WatchEvent]?) {
        var entries: [Blacklist.Entry] = []
        for (key, value) in records {
            do {
                entries.append(try BlacklistRecord(decoding: value).entry)
            } catch {
                logger.error("mqtt ban ignored", metadata: ["key": "\(key)", "error": "\(error)"])
            }
        }
        setBans(entries)
        logger.info("mqtt bans applied", metadata: ["bans": "\(entries.count)"])
        for event in events ?? [] { auditChange(event, kind: "blacklist") }
    }

    /// One audit line per applied change: the key, the revision and, for puts, the record.
    private func auditChange(_ event: WatchEvent, kind: String) {
        guard let audit else { return }
        var fields = ["key": event.keyValue.key, "revision": String(event.revision)]
        if event.kind == .put { fields["record"] = String(decoding: event.keyValue.value, as: UTF8.self) }
        audit.record("\(kind).\(event.kind == .put ? "put" : "delete")", fields)
    }
}
