import ArgumentParser
import Foundation
import MetaService
import Shared

/// `tributary ctl tenant …`: tenants in meta (`/tenants/<name>`). Bad input exits 64; a tenant
/// that does not exist (or exists already, for `create`) exits 1.
struct CtlTenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant",
        abstract: "Manage tenants (description, state, limits).",
        subcommands: [Create.self, List.self, Describe.self, Disable.self, Enable.self, Delete.self]
    )

    /// The tenant name argument, validated as a usage error.
    struct NameArgument: ParsableArguments {
        @Argument(help: "The tenant name (1-64 of A-Z a-z 0-9 . _ -).") var name: String

        func validate() throws {
            do {
                try MetaRecordNames.validateTenant(name)
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }

    /// `ctl tenant create NAME`: exits 1 when the tenant exists.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant.")
        @OptionGroup var connection: CtlConnectionOptions
        @OptionGroup var tenant: NameArgument
        @Option(name: .customLong("description"), help: "A description for operators.") var about: String = ""
        @Option(help: "Most concurrent connections (0 = unlimited).") var maxConnections: Int = 0
        @Option(help: "Most sessions (0 = unlimited).") var maxSessions: Int = 0
        @Option(help: "Most topics (0 = unlimited).") var maxTopics: Int = 0

        var record: TenantRecord {
            TenantRecord(
                name: tenant.name, description: about, createdAtMillis: UInt64(Date().timeIntervalSince1970 * 1000),
                limits: .init(maxConnections: maxConnections, maxSessions: maxSessions, maxTopics: maxTopics))
        }

        func validate() throws {
            do {
                try record.validate()
            } catch {
                throw ValidationError("\(error)")
            }
        }

        func run() async throws {
            let record = self.record
            try await connection.withMetaClient { client in
                do {
                    try await TenantStore(client: client).create(record)
                } catch MetaRecordError.alreadyExists(_) {
                    throw RPCError(.failedPrecondition, "tenant '\(record.name)' already exists")
                }
                print("created tenant \(record.name)")
            }
        }
    }

    /// `ctl tenant list [--json]`: one line (or JSON object) per tenant, `default` included.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @OptionGroup var connection: CtlConnectionOptions
        @Flag(help: "Print a JSON array.") var json = false

        func run() async throws {
            try await connection.withMetaClient { client in
                let tenants = try await TenantStore(client: client).list()
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys]
                    print(String(decoding: try encoder.encode(tenants.map(JSONTenant.init)), as: UTF8.self))
                } else {
                    for tenant in tenants { print(tenant.ctlLine) }
                }
            }
        }
    }

    /// `ctl tenant describe NAME`: exits 1 when there is no such tenant.
    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a tenant.")
        @OptionGroup var connection: CtlConnectionOptions
        @OptionGroup var tenant: NameArgument

        func run() async throws {
            let name = tenant.name
            try await connection.withMetaClient { client in
                guard let record = try await TenantStore(client: client).get(name) else {
                    throw RPCError(.notFound, "no tenant '\(name)'")
                }
                print("""
                    name: \(record.name)
                    description: \(record.description)
                    state: \(record.state)
                    created: \(Date(timeIntervalSince1970: Double(record.createdAtMillis) / 1000).ISO8601Format())
                    max-connections: \(CtlTenantCommand.limit(record.limits.maxConnections))
                    max-sessions: \(CtlTenantCommand.limit(record.limits.maxSessions))
                    max-topics: \(CtlTenantCommand.limit(record.limits.maxTopics))
                    """)
            }
        }
    }

    /// `ctl tenant disable NAME`: exits 1 when there is no such tenant.
    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a tenant.")
        @OptionGroup var connection: CtlConnectionOptions
        @OptionGroup var tenant: NameArgument

        func run() async throws { try await CtlTenantCommand.setState(tenant.name, .disabled, connection: connection) }
    }

    /// `ctl tenant enable NAME`: exits 1 when there is no such tenant.
    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a tenant.")
        @OptionGroup var connection: CtlConnectionOptions
        @OptionGroup var tenant: NameArgument

        func run() async throws { try await CtlTenantCommand.setState(tenant.name, .active, connection: connection) }
    }

    /// `ctl tenant delete NAME`: `default` is refused (exit 64); exits 1 when there is no such tenant.
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a tenant's record (its topics and users are kept).")
        @OptionGroup var connection: CtlConnectionOptions
        @OptionGroup var tenant: NameArgument

        func validate() throws {
            guard tenant.name != TenantRecord.defaultName else { throw ValidationError("the default tenant cannot be deleted") }
        }

        func run() async throws {
            let name = tenant.name
            try await connection.withMetaClient { client in
                guard try await TenantStore(client: client).delete(name) else { throw RPCError(.notFound, "no tenant '\(name)'") }
                print("deleted tenant \(name)")
            }
        }
    }

    /// A tenant as `list --json` prints it.
    struct JSONTenant: Encodable {
        var name: String
        var description: String
        var state: String
        var createdAtMillis: UInt64
        var maxConnections: Int
        var maxSessions: Int
        var maxTopics: Int

        init(_ record: TenantRecord) {
            name = record.name
            description = record.description
            state = record.state.description
            createdAtMillis = record.createdAtMillis
            maxConnections = record.limits.maxConnections
            maxSessions = record.limits.maxSessions
            maxTopics = record.limits.maxTopics
        }
    }

    static func setState(_ name: String, _ state: TenantRecord.State, connection: CtlConnectionOptions) async throws {
        try await connection.withMetaClient { client in
            do {
                try await TenantStore(client: client).setState(name, to: state)
            } catch MetaRecordError.notFound(_) {
                throw RPCError(.notFound, "no tenant '\(name)'")
            }
            print("tenant \(name) is \(state)")
        }
    }

    static func limit(_ value: Int) -> String { value == 0 ? "unlimited" : "\(value)" }
}

extension TenantRecord {
    /// How `ctl tenant list` prints a tenant.
    fileprivate var ctlLine: String {
        let limits = "connections=\(CtlTenantCommand.limit(limits.maxConnections)) sessions=\(CtlTenantCommand.limit(limits.maxSessions)) topics=\(CtlTenantCommand.limit(limits.maxTopics))"
        return "\(name)  state=\(state) \(limits)\(description.isEmpty ? "" : "  \(description)")"
    }
}
