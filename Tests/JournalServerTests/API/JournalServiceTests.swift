import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import JournalServer
@testable import Shared

/// Which transport the service tests call through.
enum JournalTransportKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case inProcess
    case loopback
    var description: String { rawValue }
}

/// A store served by ``JournalService`` on a router, reached over the chosen transport.
struct JournalServiceHarness {
    let store: ShardStore
    let client: JournalClient
    let server: RPCServer?
    let rpcClient: RPCClient?

    static func start(_ kind: JournalTransportKind, fixture: ShardTestStore) async throws -> JournalServiceHarness {
        let store = try await fixture.open()
        var router = RPCRouter()
        JournalService(store: store).register(into: &router)
        switch kind {
        case .inProcess:
            let transport = InProcessTransport(router: router, logger: ShardTestStore.logger)
            return JournalServiceHarness(store: store, client: JournalClient(transport: transport), server: nil, rpcClient: nil)
        case .loopback:
            let server = RPCServer(configuration: .init(host: "127.0.0.1", port: 0), router: router, logger: ShardTestStore.logger)
            let address = try await server.start()
            let port = try #require(address.port)
            let rpc = RPCClient(endpoints: [RPCEndpoint(host: "127.0.0.1", port: port)], logger: ShardTestStore.logger)
            return JournalServiceHarness(store: store, client: JournalClient(transport: rpc), server: server, rpcClient: rpc)
        }
    }

    func stop() async throws {
        await rpcClient?.shutdown()
        await server?.shutdown()
        try await store.close().get()
    }
}

@Suite("JournalService over in-process and loopback RPC", .serialized)
struct JournalServiceTests {
    typealias S = ShardTestStore

    @Test("create, list, describe, append, read (offset and timestamp), delete", arguments: JournalTransportKind.allCases)
    func lifecycle(kind: JournalTransportKind) async throws {
        try await S.with { fixture in
            let harness = try await JournalServiceHarness.start(kind, fixture: fixture)
            let client = harness.client
            let created = try await client.createShard("orders", settings: ShardSettings(durability: .everyBatch))
            #expect(created.name == "orders" && created.endOffset == 0)
            _ = try await client.createShard("orders", settings: ShardSettings(durability: .everyBatch))
            #expect(try await client.listShards() == ["orders"])

            let ack = try await client.append(shard: "orders", records: [S.record("a/1", "one", timestamp: 100), S.record("a/2", "two", timestamp: 200)])
            #expect(ack == JournalAppendResponse(baseOffset: 0, lastOffset: 1))
            let futureAck = try await client.appendFuture(shard: "orders", records: [S.record("b", "three", timestamp: 300)]).get()
            #expect(futureAck.baseOffset == 2)

            let read = try await client.read(shard: "orders", from: 0)
            #expect(S.values(read.records) == ["one", "two", "three"] && read.nextOffset == 3 && read.endOffset == 3)
            #expect(read.records.first?.key == ByteBuffer(string: "a/1") && read.records.first?.timestamp == 100)
            let byTime = try await client.read(shard: "orders", fromTimestamp: 150)
            #expect(S.values(byTime.records) == ["two", "three"])
            let pastEnd = try await client.read(shard: "orders", fromTimestamp: 10_000)
            #expect(pastEnd.records.isEmpty && pastEnd.nextOffset == 3)

            let description = try await client.describeShard("orders")
            #expect(description.endOffset == 3 && description.state == .active)
            // Old timestamps make the segment roll by age, so there may be more than one.
            #expect(description.segments.first?.baseOffset == 0, "\(description)")

            try await client.deleteShard("orders")
            #expect(try await client.listShards().isEmpty)
            try await harness.stop()
        }
    }

    @Test("errors: unknown shard, conflicting create, bad name, bad filter, offset out of range", arguments: JournalTransportKind.allCases)
    func errors(kind: JournalTransportKind) async throws {
        try await S.with { fixture in
            let harness = try await JournalServiceHarness.start(kind, fixture: fixture)
            let client = harness.client
            await #expect { try await client.append(shard: "missing", records: [S.record("k", "v")]) } throws: { error in
                (error as? RPCError)?.code == .notFound && (error as? RPCError)?.message == "unknown shard 'missing'"
            }
            await #expect { try await client.describeShard("missing") } throws: { ($0 as? RPCError)?.code == .notFound }
            _ = try await client.createShard("s")
            await #expect { try await client.createShard("s", settings: ShardSettings(replicationFactor: 3)) } throws: {
                ($0 as? RPCError)?.code == .alreadyExists
            }
            await #expect { try await client.createShard("bad/name") } throws: { ($0 as? RPCError)?.code == .invalidArgument }
            await #expect { try await client.read(shard: "s", from: 5) } throws: { error in
                guard let rpc = error as? RPCError, rpc.code == .failedPrecondition, var detail = rpc.detail else { return false }
                return (try? detail.readSignedVarint()) == 0 && (try? detail.readSignedVarint()) == 0
            }
            let badFilter = client.tail(shard: "s", from: 0, filters: ["a/#/b"])
            await #expect { for try await _ in badFilter {} } throws: { ($0 as? RPCError)?.code == .invalidArgument }
            let unknownTail = client.tail(shard: "missing", from: 0)
            await #expect { for try await _ in unknownTail {} } throws: { ($0 as? RPCError)?.code == .notFound }
            try await harness.stop()
        }
    }

    @Test("tail with a topic filter: replay then live records, with offsets", arguments: JournalTransportKind.allCases)
    func tailWithFilter(kind: JournalTransportKind) async throws {
        try await S.with { fixture in
            let harness = try await JournalServiceHarness.start(kind, fixture: fixture)
            let client = harness.client
            _ = try await client.createShard("t")
            _ = try await client.append(shard: "t", records: [S.record("home/kitchen/temp", "0"), S.record("home/door", "1")])
            let stream = client.tail(shard: "t", from: 0, filters: ["home/+/temp", "$SYS/#"], options: RPCCallOptions(streamWindow: 2))
            var iterator = stream.makeAsyncIterator()
            var seen: [Record] = []
            let writer = Task {
                for index in 2..<40 {
                    let topic = index % 3 == 0 ? "home/r\(index)/temp" : "home/r\(index)/humidity"
                    _ = try await client.append(shard: "t", records: [S.record(topic, "\(index)")])
                }
                _ = try await client.append(shard: "t", records: [S.record("$SYS/x", "sys")])
            }
            while seen.last.map({ $0.value != ByteBuffer(string: "sys") }) ?? true {
                guard let batch = try await iterator.next() else { break }
                #expect(!batch.records.isEmpty)
                seen += batch.records
            }
            try await writer.value
            let matching: [Int] = (2..<40).filter { $0 % 3 == 0 }
            let expected: [String] = ["0"] + matching.map { String($0) } + ["sys"]
            #expect(S.values(seen) == expected)
            let expectedOffsets: [Int64] = [0] + matching.map { Int64($0) } + [40]
            #expect(seen.map(\.offset) == expectedOffsets)
            stream.cancel()
            try await harness.stop()
        }
    }

    @Test("restarting the store keeps every acknowledged record", arguments: JournalTransportKind.allCases)
    func restartKeepsAcknowledged(kind: JournalTransportKind) async throws {
        try await S.with { fixture in
            var acknowledged: [String] = []
            do {
                let harness = try await JournalServiceHarness.start(kind, fixture: fixture)
                _ = try await harness.client.createShard("r", settings: ShardSettings(durability: .interval(milliseconds: 3)))
                try await withThrowingTaskGroup(of: [String].self) { group in
                    for writer in 0..<4 {
                        group.addTask {
                            var mine: [String] = []
                            for index in 0..<25 {
                                let value = "w\(writer)-\(index)"
                                _ = try await harness.client.append(shard: "r", records: [S.record("k", value)])
                                mine.append(value)
                            }
                            return mine
                        }
                    }
                    for try await values in group { acknowledged += values }
                }
                try await harness.stop()
            }
            let harness = try await JournalServiceHarness.start(kind, fixture: fixture)
            let read = try await harness.client.read(shard: "r", from: 0, maxBytes: 8 << 20)
            #expect(Set(S.values(read.records)) == Set(acknowledged) && read.records.count == 100)
            #expect(read.records.map(\.offset) == (0..<100).map(Int64.init))
            try await harness.stop()
        }
    }
}
