import ArgumentParser
import Foundation
import MetaService
import Shared
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `tributary ctl user …`: MQTT users in meta (`/security/users/<tenant>/<name>`). Passwords
/// are hashed here (PBKDF2-SHA256, SCRAM-SHA-256 keys derived from the same hash); only the hash
/// and keys are sent and stored, and passwords are never echoed.
struct CtlUserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage MQTT users (password and SCRAM-SHA-256 authentication).",
        subcommands: [Add.self, Passwd.self, Delete.self, List.self]
    )

    /// Where the password comes from.
    struct PasswordOptions: ParsableArguments {
        @Flag(help: "Read the password from the first line of standard input (for scripts).")
        var passwordStdin = false

        @Option(help: "Read the password from the first line of this file.")
        var passwordFile: String?

        @Option(help: "PBKDF2 iterations (at least 1000; default 210000).")
        var iterations: Int = PasswordHasher.defaultIterations

        func validate() throws {
            guard !(passwordStdin && passwordFile != nil) else {
                throw ValidationError("give at most one of --password-stdin and --password-file")
            }
            guard PasswordHasher.acceptedIterations.contains(iterations) else {
                throw ValidationError("--iterations must be from \(PasswordHasher.minimumIterations) to \(PasswordHasher.maximumIterations)")
            }
        }

        /// The password: from stdin, a file, or (on a terminal) a prompt without echo, typed twice.
        func read() throws -> String {
            if passwordStdin {
                guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                    throw ValidationError("no password on standard input")
                }
                return line
            }
            if let passwordFile {
                let text: String
                do {
                    text = try String(contentsOfFile: passwordFile, encoding: .utf8)
                } catch {
                    throw ValidationError("cannot read --password-file \(passwordFile): \(error.localizedDescription)")
                }
                guard let line = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init),
                      !line.isEmpty
                else { throw ValidationError("--password-file \(passwordFile) holds no password") }
                return line
            }
            guard isatty(STDIN_FILENO) == 1 else {
                throw ValidationError("standard input is not a terminal: give --password-stdin or --password-file")
            }
            let first = try CtlPasswordPrompt.read("Password: ")
            let second = try CtlPasswordPrompt.read("Repeat password: ")
            guard first == second else { throw ValidationError("the passwords differ") }
            guard !first.isEmpty else { throw ValidationError("the password is empty") }
            return first
        }
    }

    /// `ctl user add NAME`: exits 1 when the user exists.
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user.")
        @OptionGroup var connection: CtlConnectionOptions
        @OptionGroup var password: PasswordOptions
        @Argument(help: "The user name (the MQTT CONNECT user name).") var name: String
        @Option(help: "The tenant.") var tenant: String = UserRecord.defaultTenant
        @Flag(name: .customLong("super"), help: "A super user (bypasses ACLs).") var superuser = false

        func run() async throws {
            let record = try CtlUserCommand.record(
                tenant: tenant, name: name, password: try password.read(), superuser: superuser, iterations: password.iterations)
            try await connection.withMetaClient { client in
                let result = try await client.compareAndSet(record.key, expect: .absent, value: record.encoded())
                guard case .written(let revision, _) = result else {
                    throw RPCError(.failedPrecondition, "user '\(name)' already exists in tenant '\(tenant)' (use `ctl user passwd`)")
                }
                print("added user \(tenant)/\(name)\(superuser ? " (super user)" : "") revision=\(revision)")
            }
        }
    }

    /// `ctl user passwd NAME`: sets a new password (and optionally the super-user flag).
    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a user's password.")
        @OptionGroup var connection: CtlConnectionOptions
        @OptionGroup var password: PasswordOptions
        @Argument(help: "The user name.") var name: String
        @Option(help: "The tenant.") var tenant: String = UserRecord.defaultTenant
        @Flag(name: .customLong("super"), inversion: .prefixedNo, help: "Make the user a super user or not (default: unchanged).")
        var superuser: Bool?

        func run() async throws {
            let secret = try password.read()
            try UserRecord.validate(name: tenant, what: "tenant")
            try UserRecord.validate(name: name, what: "user name")
            try await connection.withMetaClient { client in
                let key = UserRecord.key(tenant: tenant, username: name)
                guard let current = try await client.get(key).keyValue else {
                    throw RPCError(.notFound, "no user '\(name)' in tenant '\(tenant)'")
                }
                let existing = try? UserRecord(bytes: current.value)
                let record = try CtlUserCommand.record(
                    tenant: tenant, name: name, password: secret, superuser: superuser ?? existing?.isSuperuser ?? false,
                    iterations: password.iterations)
                let result = try await client.compareAndSet(key, expect: .modRevision(current.modRevision), value: record.encoded())
                guard case .written(let revision, _) = result else {
                    throw RPCError(.failedPrecondition, "user '\(name)' changed meanwhile; try again")
                }
                print("changed password of \(tenant)/\(name) revision=\(revision)")
            }
        }
    }

    /// `ctl user delete NAME`: exits 1 when there is no such user.
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a user.")
        @OptionGroup var connection: CtlConnectionOptions
        @Argument(help: "The user name.") var name: String
        @Option(help: "The tenant.") var tenant: String = UserRecord.defaultTenant

        func run() async throws {
            try UserRecord.validate(name: tenant, what: "tenant")
            try UserRecord.validate(name: name, what: "user name")
            try await connection.withMetaClient { client in
                let result = try await client.delete(UserRecord.key(tenant: tenant, username: name))
                guard case .deleted(let revision, let count) = result, count > 0 else {
                    throw RPCError(.notFound, "no user '\(name)' in tenant '\(tenant)'")
                }
                print("deleted user \(tenant)/\(name) revision=\(revision)")
            }
        }
    }

    /// `ctl user list`: one line per user (never a hash).
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var connection: CtlConnectionOptions
        @Option(help: "Only this tenant (default: every tenant).") var tenant: String?

        func run() async throws {
            try await connection.withMetaClient { client in
                let prefix = tenant.map { UserRecord.prefix(tenant: $0) } ?? UserRecord.prefix
                for keyValue in try await client.range(prefix: prefix).keyValues {
                    guard let user = try? UserRecord(bytes: keyValue.value) else {
                        print("\(keyValue.key)  (unreadable record)")
                        continue
                    }
                    let updated = Date(timeIntervalSince1970: Double(user.updatedAtMillis) / 1000).ISO8601Format()
                    print("\(user.tenant)/\(user.username)  super=\(user.isSuperuser ? "yes" : "no") iterations=\(user.passwordHash.iterations) updated=\(updated)")
                }
            }
        }
    }

    /// A record for the arguments; a bad name or password is a usage error.
    static func record(tenant: String, name: String, password: String, superuser: Bool, iterations: Int) throws -> UserRecord {
        do {
            return try UserRecord(tenant: tenant, username: name, password: password, isSuperuser: superuser, iterations: iterations)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
