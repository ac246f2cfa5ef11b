import ArgumentParser
import Foundation
import MetaService
import Shared

/// `tributary ctl blacklist …`: bans of client ids, user names and networks in meta
/// (`/security/blacklist/<kind>/<value>`). Brokers refuse banned CONNECTs (0x8A) and disconnect
/// connected clients that become banned.
struct CtlBlacklistCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blacklist",
        abstract: "Ban and unban MQTT client ids, user names and networks.",
        subcommands: [Add.self, List.self, Delete.self]
    )

    static func kind(_ text: String) throws -> BlacklistRecord.Kind {
        let aliases: [String: BlacklistRecord.Kind] = ["clientid": .clientid, "client-id": .clientid, "user": .user, "cidr": .cidr, "ip": .cidr]
        guard let kind = aliases[text] else { throw ValidationError("kind must be clientid, user or cidr, not '\(text)'") }
        return kind
    }

    /// `ctl blacklist add KIND VALUE [--ttl SECONDS] [--reason TEXT]`.
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Ban a client id, user name or network.")
        @OptionGroup var connection: CtlConnectionOptions
        @Argument(help: "clientid, user or cidr.") var kind: String
        @Argument(help: "The client id, user name, or address/CIDR.") var value: String
        @Option(help: "Seconds until the ban ends (default: permanent).") var ttl: Int?
        @Option(help: "Why (shown by list).") var reason: String = ""

        func record(now: Date = Date()) throws -> BlacklistRecord {
            if let ttl, ttl <= 0 { throw ValidationError("--ttl must be a positive number of seconds") }
            let nowMillis = Int64(now.timeIntervalSince1970 * 1000)
            do {
                return try BlacklistRecord(
                    kind: try CtlBlacklistCommand.kind(kind), value: value, expiresAtMillis: ttl.map { nowMillis + Int64($0) * 1000 },
                    reason: reason, createdBy: CtlActor.current, createdAtMillis: nowMillis)
            } catch let error as BlacklistRecordError {
                throw ValidationError(error.description)
            }
        }

        func validate() throws { _ = try record() }

        func run() async throws {
            let record = try record()
            try await connection.withMetaClient { client in
                var lease: UInt64 = 0
                if let ttl { lease = try await client.grantLease(ttlMillis: UInt64(ttl) * 1000).id }
                _ = try await client.put(record.key, record.encoded(), lease: lease)
                print("banned \(record.key)\(ttl.map { " for \($0)s" } ?? "")")
            }
        }
    }

    /// `ctl blacklist list`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the bans in force.")
        @OptionGroup var connection: CtlConnectionOptions

        func run() async throws {
            try await connection.withMetaClient { client in
                let nowMillis = Int64(Date().timeIntervalSince1970 * 1000)
                for keyValue in try await client.range(prefix: BlacklistRecord.prefix).keyValues {
                    guard let record = try? BlacklistRecord(decoding: keyValue.value) else {
                        print("\(keyValue.key)  UNREADABLE")
                        continue
                    }
                    if let expiry = record.expiresAtMillis, expiry <= nowMillis { continue }
                    let remaining = record.expiresAtMillis.map { " expires-in=\(($0 - nowMillis + 999) / 1000)s" } ?? " permanent"
                    let why = record.reason.isEmpty ? "" : " reason=\(record.reason)"
                    print("\(record.kind.rawValue) \(record.value)\(remaining)\(why)\(record.createdBy.map { " by=\($0)" } ?? "")")
                }
            }
        }
    }

    /// `ctl blacklist delete KIND VALUE`.
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lift a ban.")
        @OptionGroup var connection: CtlConnectionOptions
        @Argument(help: "clientid, user or cidr.") var kind: String
        @Argument(help: "The banned value.") var value: String

        func run() async throws {
            let record: BlacklistRecord
            do {
                record = try BlacklistRecord(kind: try CtlBlacklistCommand.kind(kind), value: value)
            } catch let error as BlacklistRecordError {
                throw ValidationError(error.description)
            }
            try await connection.withMetaClient { client in
                let result = try await client.delete(record.key)
                if case .deleted(_, 0) = result { throw RPCError(.notFound, "no ban \(record.key)") }
                print(result.ctlLine)
            }
        }
    }
}
