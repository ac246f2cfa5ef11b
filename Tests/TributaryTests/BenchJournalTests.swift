import Foundation
import Testing

/// `tributary bench journal` against a real standalone node: the counts it reports must add up.
@Suite("tributary bench journal", .serialized)
struct BenchJournalTests {
    private func bench(_ arguments: [String]) async throws -> (status: Int32?, summary: [String: Any], stdout: String, stderr: String) {
        let process = try TributaryProcess(["bench", "journal"] + arguments)
        let status = await process.exitStatus(timeout: .seconds(120))
        _ = await eventually(timeout: .seconds(10)) {
            process.standardOutput.hasSuffix("}\n") || process.standardError.hasSuffix("\n")
        }
        let line = process.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
        let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        return (status, object, process.standardOutput, process.standardError)
    }

    private func int(_ summary: [String: Any], _ key: String) -> Int? {
        (summary[key] as? NSNumber)?.intValue
    }

    @Test func appendsAreAllStoredAndTheShardsRemoved() async throws {
        let node = try TributaryProcess.standalone()
        let fields = try #require(await node.readyFields(), "no ready line; stderr: \(node.standardError)")
        let rpc = try #require(fields["rpc"])
        let run = try await bench([
            "--journal", rpc, "--record-size", "100", "--batch", "3", "--concurrency", "8", "--shards", "2", "--duration", "2", "--json",
        ])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let appends = try #require(int(run.summary, "appends"), "no summary: \(run.stdout) \(run.stderr)")
        #expect(appends > 0)
        #expect(int(run.summary, "records") == appends * 3)
        // Every acknowledged record is in the shards, and nothing else.
        #expect(int(run.summary, "storedRecords") == appends * 3)
        #expect(int(run.summary, "errors") == 0)
        #expect(int(run.summary, "recordBytes") == 100 && int(run.summary, "shards") == 2)
        #expect((int(run.summary, "p50Micros") ?? -1) <= (int(run.summary, "p99Micros") ?? -1))
        #expect((int(run.summary, "maxMicros") ?? 0) > 0)
        // The benchmark's shards are deleted at the end.
        let list = try await runCtl(["shard", "list", "--journal", rpc])
        #expect(list.status == 0, "list: \(list.err)")
        #expect(!list.out.contains("bench-"), "left behind: \(list.out)")
    }

    @Test func rejectsBadOptions() async throws {
        let address = try await bench(["--journal", "nowhere"])
        #expect(address.status == 64)
        #expect(address.stderr.contains("--journal must be HOST:PORT; 'nowhere' is not"), "stderr: \(address.stderr)")
        let durability = try await bench(["--journal", "127.0.0.1:1", "--durability", "sometimes"])
        #expect(durability.status == 64)
        #expect(durability.stderr.contains("--durability must be group, every-batch or never"), "stderr: \(durability.stderr)")
        let batch = try await bench(["--journal", "127.0.0.1:1", "--batch", "0"])
        #expect(batch.status == 64)
        #expect(batch.stderr.contains("--batch must be between 1 and 10000"), "stderr: \(batch.stderr)")
        let size = try await bench(["--journal", "127.0.0.1:1", "--record-size", "2000", "--batch", "10000"])
        #expect(size.status == 64)
        #expect(size.stderr.contains("at most 4 MiB"), "stderr: \(size.stderr)")
    }

    @Test func reportsAnUnreachableNode() async throws {
        let port = try BenchMQTTMosquitto.freePort()
        let run = try await bench(["--journal", "127.0.0.1:\(port)", "--duration", "1"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("cannot create shard bench-"), "stderr: \(run.stderr)")
        #expect(run.stderr.contains("on 127.0.0.1:\(port)"), "stderr: \(run.stderr)")
    }
}
