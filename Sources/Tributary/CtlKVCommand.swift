import ArgumentParser
import Foundation
import MetaService
import Shared

/// `tributary ctl kv …`: the MetaService key space.
struct CtlKVCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv",
        abstract: "Read and write MetaService keys.",
        subcommands: [Put.self, Get.self, Delete.self, CAS.self, Watch.self]
    )

    /// `ctl kv put KEY VALUE`.
    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a key.")
        @OptionGroup var connection: CtlConnectionOptions
        @Argument var key: String
        @Argument var value: String

        func run() async throws {
            try await connection.withMetaClient { client in
                print(try await client.put(key, Array(value.utf8)).ctlLine)
            }
        }
    }

    /// `ctl kv get KEY`: exits 1 when the key does not exist.
    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read a key (linearizable unless --serializable).")
        @OptionGroup var connection: CtlConnectionOptions
        @Argument var key: String
        @Flag(help: "Read the contacted member's local state (may be stale).") var serializable = false
        @Flag(help: "Treat KEY as a prefix and list every key under it.") var prefix = false

        func run() async throws {
            try await connection.withMetaClient { client in
                if prefix {
                    let range = try await client.range(prefix: key, serializable: serializable)
                    for record in range.keyValues { print(record.ctlLine) }
                    return
                }
                guard let record = try await client.get(key, serializable: serializable).keyValue else {
                    throw RPCError(.notFound, "key '\(key)' does not exist")
                }
                print(record.ctlLine)
            }
        }
    }

    /// `ctl kv delete KEY`.
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a key (or every key under it with --prefix).")
        @OptionGroup var connection: CtlConnectionOptions
        @Argument var key: String
        @Flag var prefix = false

        func run() async throws {
            try await connection.withMetaClient { client in
                print(try await client.delete(key, prefix: prefix).ctlLine)
            }
        }
    }

    /// `ctl kv cas KEY VALUE --expect-revision R | --expect-absent`: exits 1 when the compare fails.
    struct CAS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cas", abstract: "Compare-and-set a key.")
        @OptionGroup var connection: CtlConnectionOptions
        @Argument var key: String
        @Argument var value: String
        @Option(help: "The key must have this modification revision.") var expectRevision: UInt64?
        @Flag(help: "The key must not exist.") var expectAbsent = false

        func validate() throws {
            guard (expectRevision != nil) != expectAbsent else {
                throw ValidationError("give exactly one of --expect-revision R and --expect-absent")
            }
        }

        func run() async throws {
            let expectation: MetaCommand.Expectation = expectRevision.map { .modRevision($0) } ?? .absent
            try await connection.withMetaClient { client in
                let result = try await client.compareAndSet(key, expect: expectation, value: Array(value.utf8))
                print(result.ctlLine)
                if case .compareFailed = result { throw RPCError(.failedPrecondition, "compare failed") }
            }
        }
    }

    /// `ctl kv watch PREFIX [--from-revision R]`: prints events until interrupted.
    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print changes under a prefix until Ctrl-C.")
        @OptionGroup var connection: CtlConnectionOptions
        @Argument var prefix: String
        @Option(help: "First revision to show (default: changes from now on).") var fromRevision: UInt64 = 0

        func run() async throws {
            try await connection.withMetaClient { client in
                for try await batch in client.watch(prefix: prefix, fromRevision: fromRevision) {
                    for event in batch.events {
                        let value = String(decoding: event.keyValue.value, as: UTF8.self)
                        let line = "\(event.kind == .put ? "PUT" : "DELETE") \(event.keyValue.key)\(event.kind == .put ? " = \(value)" : "") revision=\(event.revision)\n"
                        FileHandle.standardOutput.write(Data(line.utf8))
                    }
                }
            }
        }
    }
}
