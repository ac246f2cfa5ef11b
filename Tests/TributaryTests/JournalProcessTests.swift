import Foundation
import Logging
import MetaService
import NIOCore
import Shared
import Testing

/// Runs `tributary ctl <arguments>` with `stdin` piped in; returns exit status and output.
func runCtl(_ arguments: [String], stdin: String? = nil, timeout: Duration = .seconds(60)) async throws -> (status: Int32?, out: String, err: String) {
    let process = Process()
    process.executableURL = TributaryProcess.executable
    process.arguments = ["ctl"] + arguments
    process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TRIBUTARY_") }
    let out = TributaryProcess.Captured(), err = TributaryProcess.Captured()
    let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = errPipe
    process.standardInput = inPipe
    outPipe.fileHandleForReading.readabilityHandler = { out.append($0.availableData) }
    errPipe.fileHandleForReading.readabilityHandler = { err.append($0.availableData) }
    try process.run()
    if let stdin { inPipe.fileHandleForWriting.write(Data(stdin.utf8)) }
    try inPipe.fileHandleForWriting.close()
    let exited = await eventually(timeout: timeout) { !process.isRunning }
    if !exited { process.terminate() }
    process.waitUntilExit()
    // Whatever the handlers had not taken yet is still in the pipes: read it to the end.
    outPipe.fileHandleForReading.readabilityHandler = nil
    errPipe.fileHandleForReading.readabilityHandler = nil
    out.append(outPipe.fileHandleForReading.readDataToEndOfFile())
    err.append(errPipe.fileHandleForReading.readDataToEndOfFile())
    return (exited ? process.terminationStatus : nil, out.value, err.value)
}

@Suite("journal processes: ctl shard, tributary journal", .serialized)
struct JournalProcessTests {
    @Test func ctlShardAgainstStandalone() async throws {
        let node = try TributaryProcess.standalone()
        let fields = try #require(await node.readyFields(), "no ready line; stderr: \(node.standardError)")
        #expect(fields["roles"]?.split(separator: ",").contains("journal") == true)
        let rpc = try #require(fields["rpc"])

        let create = try await runCtl(["shard", "create", "orders", "--journal", rpc, "--timeout", "20"])
        #expect(create.status == 0, "create: \(create.err)")
        let one = try await runCtl(["shard", "append", "orders", "--key", "a/b", "--value", "first", "--journal", rpc])
        #expect(one.status == 0 && one.out.contains("appended offsets 0-0"), "append: \(one.out) \(one.err)")
        let lines = try await runCtl(["shard", "append", "orders", "--key", "c", "--journal", rpc], stdin: "second\nthird\n")
        #expect(lines.status == 0 && lines.out.contains("appended offsets 1-2"), "append stdin: \(lines.out) \(lines.err)")

        let read = try await runCtl(["shard", "read", "orders", "--journal", rpc])
        #expect(read.status == 0, "read: \(read.err)")
        let rows = read.out.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.map { $0.first ?? "" } == ["0", "1", "2"])
        #expect(rows.map { $0.count > 3 ? $0[2] + "=" + $0[3] : "" } == ["a/b=first", "c=second", "c=third"])

        let describe = try await runCtl(["shard", "describe", "orders", "--journal", rpc])
        #expect(describe.status == 0, "describe: \(describe.err)")
        #expect(describe.out.contains("start=0 end=3"))
        #expect(describe.out.contains("segment base=0"))
        #expect(describe.out.contains("meta replicas=1 state=active"), "describe: \(describe.out)")
        #expect(describe.out.contains("leader=1 epoch=1"), "describe: \(describe.out)")

        let list = try await runCtl(["shard", "list", "--journal", rpc])
        // Standalone's MQTT role keeps its own shards (mqtt-0…, mqtt-retained) beside ours.
        let listed = list.out.split(separator: "\n").filter { !$0.hasPrefix("mqtt-") }
        #expect(list.status == 0 && listed == ["orders"], "list: \(list.out) \(list.err)")
        let limited = try await runCtl(["shard", "read", "orders", "--from", "1", "--limit", "1", "--journal", rpc])
        #expect(limited.status == 0 && limited.out.split(separator: "\n").count == 1 && limited.out.hasPrefix("1\t"), "read: \(limited.out)")
        let future = try await runCtl(["shard", "read", "orders", "--from-timestamp", "\(Int64.max / 2)", "--journal", rpc])
        #expect(future.status == 0 && future.out.isEmpty, "read: \(future.out) \(future.err)")
        let badName = try await runCtl(["shard", "create", "no/slash", "--journal", rpc])
        #expect(badName.status == 1 && badName.err.contains("invalid shard name"), "stderr: \(badName.err)")
        let appendMissing = try await runCtl(["shard", "append", "missing", "--value", "x", "--journal", rpc])
        #expect(appendMissing.status == 1 && appendMissing.err.contains("unknown shard 'missing'"))

        let unknown = try await runCtl(["shard", "read", "missing", "--journal", rpc])
        #expect(unknown.status == 1)
        #expect(unknown.err.contains("unknown shard 'missing'"), "stderr: \(unknown.err)")

        let delete = try await runCtl(["shard", "delete", "orders", "--journal", rpc])
        #expect(delete.status == 0, "delete: \(delete.err)")
        let gone = try await runCtl(["shard", "describe", "orders", "--journal", rpc])
        #expect(gone.status == 1 && gone.err.contains("unknown shard 'orders'"))

        node.signal(SIGTERM)
        #expect(await node.exitStatus() == 0, "stderr: \(node.standardError)")

        let unreachable = try await runCtl(["shard", "describe", "orders", "--journal", rpc, "--timeout", "2"])
        #expect(unreachable.status == 1)
        #expect(unreachable.err.contains(rpc), "stderr: \(unreachable.err)")
    }

    @Test func journalNodeKeepsAcknowledgedRecordsAcrossKill9() async throws {
        let ports = try await MetaClusterProcessTests.freePorts(2)
        let metaAddress = "127.0.0.1:\(ports[0])"
        let journalAddress = "127.0.0.1:\(ports[1])"
        let metaData = TributaryProcess.temporaryDirectory()
        let journalData = TributaryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: journalData) }
        let meta = try TributaryProcess(
            ["meta", "--id", "1", "--data-dir", metaData, "--listen", metaAddress, "--admin-port", "0", "--tick-ms", "50"],
            dataDirectory: metaData)
        _ = try #require(await meta.readyFields(), "meta not ready: \(meta.standardError)")
        func startJournal() throws -> TributaryProcess {
            try TributaryProcess([
                "journal", "--id", "7", "--data-dir", journalData, "--listen", journalAddress, "--meta", metaAddress,
                "--admin-port", "0", "--lease-ttl-ms", "3000",
            ])
        }
        let journal = try startJournal()
        let fields = try #require(await journal.readyFields(), "journal not ready: \(journal.standardError)")
        #expect(fields["roles"] == "journal")
        #expect(fields["rpc"] == journalAddress)

        let metaClient = MetaClient(addresses: [metaAddress], options: .init(timeout: .seconds(20))) { address in
            RPCClient(endpoints: RPCEndpoint(address).map { [$0] } ?? [], logger: Logger(label: "test.meta"))
        }
        let registered = try await eventually(timeout: .seconds(20)) {
            try await metaClient.get("/nodes/journal/7").keyValue.flatMap { try? NodeRecord(bytes: $0.value) }?.address == journalAddress
        }
        #expect(registered, "the node registers itself in meta; stderr: \(journal.standardError)")

        let create = try await runCtl(["shard", "create", "events", "--journal", journalAddress, "--timeout", "20"])
        #expect(create.status == 0, "create: \(create.err)")
        let record = try await metaClient.get("/journal/shards/events").keyValue
        #expect(record != nil, "the shard is recorded in meta")
        let describe = try await runCtl(["shard", "describe", "events", "--journal", journalAddress])
        #expect(describe.out.contains("replicas=7 leader=7 epoch=1"), "describe: \(describe.out) \(describe.err)")

        // Four writers append one acknowledged record per line at the same time; SIGKILL the
        // node as soon as they have all been acknowledged.
        let acknowledged = try await withThrowingTaskGroup(of: [String].self) { group in
            for writer in 0..<4 {
                group.addTask {
                    let lines = (0..<50).map { "w\(writer)-\($0)" }
                    let append = try await runCtl(
                        ["shard", "append", "events", "--key", "k", "--batch", "1", "--journal", journalAddress],
                        stdin: lines.joined(separator: "\n") + "\n")
                    #expect(append.status == 0, "append: \(append.err)")
                    // Every printed line is one acknowledgement, in order.
                    let acks = append.out.split(separator: "\n").filter { $0.hasPrefix("appended offsets") }.count
                    return Array(lines.prefix(acks))
                }
            }
            var all: [String] = []
            for try await values in group { all += values }
            return all
        }
        journal.signal(SIGKILL)
        _ = await journal.exitStatus()
        #expect(acknowledged.count == 200)

        let restarted = try startJournal()
        _ = try #require(await restarted.readyFields(), "journal did not restart: \(restarted.standardError)")
        let read = try await runCtl(["shard", "read", "events", "--journal", journalAddress])
        #expect(read.status == 0, "read: \(read.err)")
        let values = read.out.split(separator: "\n").compactMap { $0.split(separator: "\t", omittingEmptySubsequences: false).last.map(String.init) }
        #expect(Set(values).isSuperset(of: acknowledged), "missing: \(Set(acknowledged).subtracting(values).sorted().prefix(10))")

        restarted.signal(SIGTERM)
        #expect(await restarted.exitStatus() == 0, "stderr: \(restarted.standardError)")
        let revoked = try await eventually(timeout: .seconds(10)) {
            try await metaClient.get("/nodes/journal/7").keyValue == nil
        }
        #expect(revoked, "a clean shutdown revokes the registration lease")
        await metaClient.close()
        meta.signal(SIGTERM)
        _ = await meta.exitStatus()
    }
}
