import ArgumentParser
import Foundation
import MetaService
import Shared

/// `tributary ctl acl …`: the MQTT access-control rules in meta (`/security/acl/<tenant>/…`).
/// Brokers follow them with a watch; a change applies to connected clients at once.
struct CtlACLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acl",
        abstract: "Add, list and delete MQTT access-control rules.",
        subcommands: [Add.self, List.self, Delete.self]
    )

    /// `ctl acl add`.
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a rule (lower --priority is evaluated first; the first matching rule decides).")
        @OptionGroup var connection: CtlConnectionOptions
        @Flag(help: "Allow what the rule matches.") var allow = false
        @Flag(help: "Deny what the rule matches.") var deny = false
        @Option(help: "publish, subscribe or both.") var action: String = "both"
        @Option(help: "Topic filter; %u and %c stand for the user name and client id (whole levels).") var topic: String
        @Option(help: "Only for this user name.") var user: String?
        @Option(name: .customLong("client-id"), help: "Only for this client id.") var clientID: String?
        @Option(help: "Only from this address or CIDR (repeatable).") var source: [String] = []
        @Option(help: "Only these QoS levels, e.g. 0,1.") var qos: String?
        @Option(help: "Only retained (true) or non-retained (false) publishes.") var retain: Bool?
        @Option(help: "Evaluation order, 0…999999 (lower first).") var priority: Int = 1000
        @Option(help: "Rule id (default: random).") var id: String?
        @Option(help: "Tenant.") var tenant: String = "default"

        func record() throws -> ACLRecord {
            guard allow != deny else { throw ValidationError("give exactly one of --allow and --deny") }
            let actions: [String: ACLAction] = ["publish": .publish, "subscribe": .subscribe, "both": .all, "all": .all]
            guard let parsedAction = actions[action] else {
                throw ValidationError("--action must be publish, subscribe or both, not '\(action)'")
            }
            var levels: [UInt8]?
            if let qos {
                levels = try qos.split(separator: ",", omittingEmptySubsequences: false).map { part in
                    guard let level = UInt8(part.trimmingCharacters(in: .whitespaces)), level <= 2 else {
                        throw ValidationError("--qos must list 0, 1 or 2 separated by commas, not '\(qos)'")
                    }
                    return level
                }
            }
            let record = ACLRecord(
                tenant: tenant, id: id ?? Self.randomID(), priority: priority, permission: allow ? .allow : .deny,
                action: parsedAction, topic: topic, user: user, clientID: clientID, sources: source, qos: levels,
                retain: retain, createdBy: CtlActor.current, createdAtMillis: Int64(Date().timeIntervalSince1970 * 1000))
            do {
                try record.validate()
            } catch {
                throw ValidationError(error.description)
            }
            return record
        }

        func validate() throws { _ = try record() }

        func run() async throws {
            let record = try record()
            try await connection.withMetaClient { client in
                let existing = try await client.range(prefix: ACLRecord.prefix(tenant: record.tenant)).keyValues
                if existing.contains(where: { (try? ACLRecord(decoding: $0.value))?.id == record.id }) {
                    throw RPCError(.alreadyExists, "rule '\(record.id)' already exists in tenant '\(record.tenant)'")
                }
                let result = try await client.compareAndSet(record.key, expect: .absent, value: record.encoded())
                if case .compareFailed = result { throw RPCError(.alreadyExists, "\(record.key) already exists") }
                print("added \(record.key)  \(record.summary)")
            }
        }

        static func randomID() -> String {
            String((0..<8).map { _ in "0123456789abcdef".randomElement() ?? "0" })
        }
    }

    /// `ctl acl list`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the rules in evaluation order.")
        @OptionGroup var connection: CtlConnectionOptions
        @Option(help: "Only this tenant (default: all).") var tenant: String?

        func run() async throws {
            try await connection.withMetaClient { client in
                let prefix = tenant.map { ACLRecord.prefix(tenant: $0) } ?? ACLRecord.prefix
                for keyValue in try await client.range(prefix: prefix).keyValues {
                    do {
                        let record = try ACLRecord(decoding: keyValue.value)
                        print("\(record.tenant) \(record.summary)")
                    } catch {
                        print("\(keyValue.key)  UNREADABLE: \(error)")
                    }
                }
            }
        }
    }

    /// `ctl acl delete ID`.
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a rule by id.")
        @OptionGroup var connection: CtlConnectionOptions
        @Argument(help: "The rule id.") var id: String
        @Option(help: "Tenant.") var tenant: String = "default"

        func run() async throws {
            try await connection.withMetaClient { client in
                let records = try await client.range(prefix: ACLRecord.prefix(tenant: tenant)).keyValues
                guard let match = records.first(where: { (try? ACLRecord(decoding: $0.value))?.id == id }) else {
                    throw RPCError(.notFound, "no rule '\(id)' in tenant '\(tenant)'")
                }
                print(try await client.delete(match.key).ctlLine)
            }
        }
    }
}

extension ACLRecord {
    /// One line for `ctl acl list`.
    var summary: String {
        var parts = ["priority=\(priority)", "id=\(id)", permission.rawValue, action == .all ? "both" : action.rawValue, "topic=\(topic)"]
        if let user { parts.append("user=\(user)") }
        if let clientID { parts.append("client-id=\(clientID)") }
        if !sources.isEmpty { parts.append("source=\(sources.joined(separator: ","))") }
        if let qos { parts.append("qos=\(qos.map(String.init).joined(separator: ","))") }
        if let retain { parts.append("retain=\(retain)") }
        if let createdBy { parts.append("by=\(createdBy)") }
        return parts.joined(separator: " ")
    }
}

/// Who runs `ctl`, recorded in the records it writes (informational: the RPC does not
/// authenticate the caller).
enum CtlActor {
    static var current: String {
        let user = ProcessInfo.processInfo.environment["USER"] ?? "unknown"
        return "\(user)@\(ProcessInfo.processInfo.hostName)"
    }
}
