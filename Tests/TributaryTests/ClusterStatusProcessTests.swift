import Foundation
import Testing

/// `tributary ctl cluster status` against real processes.
@Suite("ctl cluster status processes", .serialized)
struct ClusterStatusProcessTests {
    /// The rows of `ctl cluster status --json`, or nil when it failed or printed no JSON.
    static func statusRows(_ meta: String) async throws -> [[String: Any]]? {
        let result = try await runCtl(["cluster", "status", "--meta", meta, "--json", "--timeout", "5"])
        guard result.status == 0,
              let object = try? JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any]
        else { return nil }
        return object["nodes"] as? [[String: Any]]
    }

    static func row(_ rows: [[String: Any]]?, role: String, id: Int) -> [String: Any]? {
        rows?.first { $0["role"] as? String == role && ($0["id"] as? NSNumber)?.intValue == id }
    }

    @Test func standaloneListsItsMetaMemberAndItsJournal() async throws {
        let node = try TributaryProcess.standalone()
        let fields = try #require(await node.readyFields(), "no ready line; stderr: \(node.standardError)")
        let rpc = try #require(fields["rpc"])
        var rows: [[String: Any]]?
        let registered = try await eventually(timeout: .seconds(30)) {
            rows = try await Self.statusRows(rpc)
            return Self.row(rows, role: "journal", id: 1)?["state"] as? String == "alive"
        }
        #expect(registered, "rows: \(String(describing: rows)); stderr: \(node.standardError)")
        let meta = try #require(Self.row(rows, role: "meta", id: 1))
        #expect(meta["state"] as? String == "leader")
        #expect(meta["address"] as? String == rpc)
        #expect((meta["startedAtMs"] as? NSNumber) != nil)
        let journal = try #require(Self.row(rows, role: "journal", id: 1))
        #expect(journal["address"] as? String == rpc, "the journal advertises the bound RPC port")
        let lease = try #require((journal["lease"] as? NSNumber)?.uint64Value)
        #expect(lease != 0)
        let ttl = try #require((journal["leaseTtlMs"] as? NSNumber)?.intValue)
        let remaining = try #require((journal["leaseRemainingMs"] as? NSNumber)?.intValue)
        #expect(ttl == 10_000 && remaining > 0 && remaining <= ttl)
        let started = try #require((journal["startedAtMs"] as? NSNumber)?.doubleValue)
        #expect(abs(started / 1000 - Date().timeIntervalSince1970) < 600)

        // The table has the same rows.
        let table = try await runCtl(["cluster", "status", "--meta", rpc])
        #expect(table.status == 0, "stderr: \(table.err)")
        let lines = table.out.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(lines.first?.prefix(4) == ["ROLE", "ID", "ADDRESS", "STATE"])
        #expect(lines.contains { $0.prefix(4) == ["meta", "1", rpc, "leader"] }, "table: \(table.out)")
        #expect(lines.contains { $0.prefix(5) == ["journal", "1", rpc, "alive", String(lease)] }, "table: \(table.out)")

        node.signal(SIGTERM)
        #expect(await node.exitStatus() == 0, "stderr: \(node.standardError)")
        let unreachable = try await runCtl(["cluster", "status", "--meta", rpc, "--timeout", "2"])
        #expect(unreachable.status == 1 && unreachable.err.contains("tributary ctl:"), "stderr: \(unreachable.err)")
    }

    @Test func aKilledJournalShowsDeadAfterItsLeaseTTL() async throws {
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
        let journal = try TributaryProcess([
            "journal", "--id", "7", "--data-dir", journalData, "--listen", journalAddress, "--meta", metaAddress,
            "--admin-port", "0", "--lease-ttl-ms", "1500",
        ])
        _ = try #require(await journal.readyFields(), "journal not ready: \(journal.standardError)")

        var rows: [[String: Any]]?
        let alive = try await eventually(timeout: .seconds(30)) {
            rows = try await Self.statusRows(metaAddress)
            return Self.row(rows, role: "journal", id: 7)?["state"] as? String == "alive"
        }
        #expect(alive, "rows: \(String(describing: rows)); journal: \(journal.standardError)")
        let lease = try #require((Self.row(rows, role: "journal", id: 7)?["lease"] as? NSNumber)?.uint64Value)
        #expect(Self.row(rows, role: "meta", id: 1)?["state"] as? String == "leader")
        #expect(Self.row(rows, role: "journal", id: 7)?["address"] as? String == journalAddress)

        // SIGKILL: no revoke. The registration stays until its lease expires, then it is dead.
        let killed = ContinuousClock.now
        journal.signal(SIGKILL)
        _ = await journal.exitStatus()
        let dead = try await eventually(timeout: .seconds(30)) {
            rows = try await Self.statusRows(metaAddress)
            return Self.row(rows, role: "journal", id: 7)?["state"] as? String == "dead"
        }
        #expect(dead, "rows: \(String(describing: rows)); meta: \(meta.standardError)")
        #expect(ContinuousClock.now - killed >= .milliseconds(1000), "dead before its lease could expire")
        let row = try #require(Self.row(rows, role: "journal", id: 7))
        #expect((row["lease"] as? NSNumber)?.uint64Value == lease, "the dead node keeps its last lease")
        #expect(row["address"] as? String == journalAddress)
        #expect(row["leaseRemainingMs"] == nil)
        #expect((row["changedAtMs"] as? NSNumber) != nil)

        meta.signal(SIGTERM)
        #expect(await meta.exitStatus() == 0, "stderr: \(meta.standardError)")
    }
}
