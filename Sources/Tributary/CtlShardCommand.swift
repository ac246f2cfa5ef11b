import ArgumentParser
import Foundation
import JournalServer
import Logging
import NIOCore
import NIOSSL
import Shared

/// `tributary ctl shard …`: a journal node's shards over ``JournalAPI``.
struct CtlShardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shard",
        abstract: "Create, inspect, write and read journal shards.",
        subcommands: [Create.self, List.self, Describe.self, Append.self, Read.self, Delete.self]
    )

    /// How `ctl shard` reaches a journal node.
    struct Connection: ParsableArguments {
        @Option(name: .long, help: "The journal node, HOST:PORT (default: the local standalone node).")
        var journal: String = "127.0.0.1:9870"

        @Option(name: .long, help: "Seconds to wait for each answer.")
        var timeout: Double = 5

        @Option(name: .long, help: "Configuration file whose rpc.tls.* keys secure the connection.")
        var config: String?

        var callOptions: RPCCallOptions { RPCCallOptions(timeout: .milliseconds(Int64(timeout * 1000))) }

        func validate() throws {
            guard RPCEndpoint(journal) != nil else { throw ValidationError("--journal must be HOST:PORT; '\(journal)' is not") }
            guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        }

        /// Runs `body` with a client of the node; errors are printed and exit 1.
        func withClient(_ body: (JournalClient) async throws -> Void) async throws {
            var tls: NIOSSLContext?
            if let config {
                do {
                    let loaded = try await ConfigLoader(filePath: config, environment: ProcessInfo.processInfo.environment, flags: [:]).load()
                    tls = try loaded.rpc.tls.makeClientContext()
                } catch {
                    FileHandle.standardError.write(Data("tributary ctl: \(error)\n".utf8))
                    throw ExitCode(78)
                }
            }
            var configuration = RPCClientConfiguration(endpoints: RPCEndpoint(journal).map { [$0] } ?? [])
            configuration.tls = tls
            let rpc = RPCClient(configuration: configuration, logger: Logger(label: "tributary.ctl"))
            do {
                try await body(JournalClient(transport: rpc))
            } catch {
                await rpc.shutdown()
                let message = (error as? RPCError).map { rpcError in
                    rpcError.code == .unavailable ? "\(journal): \(rpcError.message.isEmpty ? "unreachable" : rpcError.message)" : rpcError.message
                } ?? "\(error)"
                FileHandle.standardError.write(Data("tributary ctl shard: \(message)\n".utf8))
                throw ExitCode(1)
            }
            await rpc.shutdown()
        }
    }

    /// `ctl shard create NAME`.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a shard (no-op if it exists with the same settings).")
        @OptionGroup var connection: Connection
        @Argument(help: "Shard name: 1-200 of A-Z a-z 0-9 . _ -") var name: String
        @Option(help: "Replicas per segment (above 1: placed by the segment controller on journal nodes).") var replicas: Int = 1
        @Option(help: "fsync policy: every-batch, group (group commit, see --commit-interval-ms) or never.") var durability: String = "group"
        @Option(help: "Group commit interval in milliseconds.") var commitIntervalMs: Int64 = 2
        @Option(help: "Segment size in bytes.") var segmentBytes: Int = 256 << 20
        @Option(help: "Retention in hours (0: keep forever).") var retentionHours: Int64 = 168

        func settings() throws -> ShardSettings {
            let policy: DurabilityPolicy
            switch durability {
            case "every-batch": policy = .everyBatch
            case "group": policy = .interval(milliseconds: commitIntervalMs)
            case "never": policy = .never
            default: throw ValidationError("--durability must be every-batch, group or never")
            }
            return ShardSettings(
                replicationFactor: replicas, durability: policy, maxSegmentBytes: segmentBytes,
                retentionMilliseconds: retentionHours > 0 ? retentionHours * 3_600_000 : nil)
        }

        func validate() throws { _ = try settings() }

        func run() async throws {
            let settings = try settings()
            try await connection.withClient { client in
                let description = try await client.createShard(name, settings: settings, options: connection.callOptions)
                print("created \(description.name) \(description.settings)")
            }
        }
    }

    /// `ctl shard list`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the node's shards.")
        @OptionGroup var connection: Connection

        func run() async throws {
            try await connection.withClient { client in
                for name in try await client.listShards(options: connection.callOptions) { print(name) }
            }
        }
    }

    /// `ctl shard describe NAME`.
    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a shard's offsets, state, segments and meta record.")
        @OptionGroup var connection: Connection
        @Argument var name: String

        func run() async throws {
            try await connection.withClient { client in
                let shard = try await client.describeShard(name, options: connection.callOptions)
                print("shard \(shard.name) state=\(shard.state) start=\(shard.startOffset) end=\(shard.endOffset)")
                print("settings \(shard.settings)")
                for segment in shard.segments {
                    let corrupt = shard.corruptSegments.contains(segment.baseOffset) ? " corrupt" : ""
                    print("segment base=\(segment.baseOffset) bytes=\(segment.sizeInBytes)\(corrupt)")
                }
                if let record = shard.catalog {
                    print("meta replicas=\(record.replicationFactor) state=\(record.state)\(record.segments.isEmpty ? " pending placement" : "")")
                    for (index, segment) in record.segments.enumerated() {
                        // A segment ends where the next begins; the last one is open (or being sealed).
                        let end = index + 1 < record.segments.count ? "\(record.segments[index + 1].baseOffset)" : "-"
                        print("meta segment \(index) base=\(segment.baseOffset) end=\(end) replicas=\(segment.replicas.map(String.init).joined(separator: ",")) leader=\(segment.leader) epoch=\(segment.epoch) \(segment.sealed ? "sealed" : "open")")
                    }
                }
            }
        }
    }

    /// `ctl shard append NAME`.
    struct Append: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Append one record (--value) or one record per stdin line; prints the acknowledged offsets.")
        @OptionGroup var connection: Connection
        @Argument var name: String
        @Option(help: "Record key (e.g. an MQTT topic).") var key: String?
        @Option(help: "Record value; without it every stdin line is one record.") var value: String?
        @Option(help: "Records per append when reading stdin.") var batch: Int = 100

        func run() async throws {
            try await connection.withClient { client in
                let now = SegmentLog.systemClock()
                func record(_ text: String) -> Record {
                    Record(timestamp: now, key: key.map { ByteBuffer(string: $0) }, value: ByteBuffer(string: text))
                }
                if let value {
                    let ack = try await client.append(shard: name, records: [record(value)], options: connection.callOptions)
                    print("appended offsets \(ack.baseOffset)-\(ack.lastOffset)")
                    return
                }
                var pending: [Record] = []
                func flush() async throws {
                    guard !pending.isEmpty else { return }
                    let ack = try await client.append(shard: name, records: pending, options: connection.callOptions)
                    print("appended offsets \(ack.baseOffset)-\(ack.lastOffset)")
                    pending = []
                }
                while let line = readLine(strippingNewline: true) {
                    pending.append(record(line))
                    if pending.count >= max(batch, 1) { try await flush() }
                }
                try await flush()
            }
        }
    }

    /// `ctl shard read NAME`.
    struct Read: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print records: offset, timestamp, key, value (tab-separated).")
        @OptionGroup var connection: Connection
        @Argument var name: String
        @Option(help: "First offset (default: the shard's first stored offset).") var from: Int64?
        @Option(help: "Start at the first record at or after this timestamp (ms since the epoch) instead.") var fromTimestamp: Int64?
        @Option(help: "Most records to print (0: up to the end).") var limit: Int = 0

        func run() async throws {
            try await connection.withClient { client in
                var printed = 0
                var result: ShardReadResult
                if let fromTimestamp {
                    result = try await client.read(shard: name, fromTimestamp: fromTimestamp, options: connection.callOptions)
                } else {
                    let start: Int64
                    if let from {
                        start = from
                    } else {
                        start = try await client.describeShard(name, options: connection.callOptions).startOffset
                    }
                    result = try await client.read(shard: name, from: start, options: connection.callOptions)
                }
                while true {
                    for record in result.records {
                        if limit > 0 && printed >= limit { return }
                        let key = record.key.map { String(buffer: $0) } ?? ""
                        let value = record.value.map { String(buffer: $0) } ?? ""
                        print("\(record.offset)\t\(record.timestamp)\t\(key)\t\(value)")
                        printed += 1
                    }
                    let next = result.nextOffset
                    guard next < result.endOffset else { return }
                    result = try await client.read(shard: name, from: next, options: connection.callOptions)
                    guard result.nextOffset > next else { return }
                }
            }
        }
    }

    /// `ctl shard delete NAME`.
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a shard and its data.")
        @OptionGroup var connection: Connection
        @Argument var name: String

        func run() async throws {
            try await connection.withClient { client in
                try await client.deleteShard(name, options: connection.callOptions)
                print("deleted \(name)")
            }
        }
    }
}
