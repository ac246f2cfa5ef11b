import Foundation
import Testing

/// `tributary ctl tenant` against a standalone node: create, list (text and JSON), describe,
/// disable/enable, delete, and the exit codes of bad input (64) and missing/existing tenants (1).
@Suite("ctl tenant on a standalone node", .serialized)
struct TenantCtlProcessTests {
    @Test func tenantsAreManagedWithClearErrors() async throws {
        let node = try TributaryProcess.standalone()
        let fields = try #require(await node.readyFields(), "stderr: \(node.standardError)")
        let port = try #require(fields["rpc"]?.split(separator: ":").last.map(String.init))
        func ctl(_ arguments: [String]) async throws -> (status: Int32, output: String, standardOutput: String) {
            let process = try TributaryProcess(["ctl", "tenant"] + arguments + ["--meta", "127.0.0.1:\(port)"])
            let status = await process.exitStatus(timeout: .seconds(60))
            return (status ?? -1, process.standardOutput + process.standardError, process.standardOutput)
        }

        let created = try await ctl(["create", "acme", "--description", "Acme Corp", "--max-connections", "100", "--max-topics", "5"])
        #expect(created.status == 0, "\(created.output)")
        let again = try await ctl(["create", "acme"])
        #expect(again.status == 1 && again.output.contains("tenant 'acme' already exists"), "\(again.output)")

        let listed = try await ctl(["list"])
        #expect(listed.status == 0, "\(listed.output)")
        let lines = listed.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.count == 2 && lines[0].hasPrefix("acme  state=active connections=100 sessions=unlimited topics=5  Acme Corp")
                && lines[1].hasPrefix("default  state=active"), "\(listed.output)")

        let disabled = try await ctl(["disable", "acme"])
        #expect(disabled.status == 0, "\(disabled.output)")
        let json = try await ctl(["list", "--json"])
        #expect(json.status == 0, "\(json.output)")
        let decoded = try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [[String: Any]]
        let acme = try #require(decoded?.first { $0["name"] as? String == "acme" }, "\(json.output)")
        #expect(acme["state"] as? String == "disabled" && acme["maxConnections"] as? Int == 100 && acme["maxSessions"] as? Int == 0)

        #expect(try await ctl(["enable", "acme"]).status == 0)
        let described = try await ctl(["describe", "acme"])
        #expect(described.status == 0 && described.output.contains("state: active") && described.output.contains("max-topics: 5"),
                "\(described.output)")
        let implicit = try await ctl(["describe", "default"])
        #expect(implicit.status == 0 && implicit.output.contains("max-connections: unlimited"), "\(implicit.output)")

        // Bad input exits 64 with the problem; a tenant that does not exist exits 1.
        let usage: [([String], String)] = [
            (["create", "bad/name"], "invalid tenant 'bad/name'"),
            (["create", "x", "--max-sessions=-1"], "invalid max sessions"),
            (["delete", "default"], "the default tenant cannot be deleted"),
        ]
        for (arguments, message) in usage {
            let result = try await ctl(arguments)
            #expect(result.status == 64 && result.output.contains(message), "\(arguments): status \(result.status): \(result.output)")
        }
        for arguments in [["describe", "nobody"], ["disable", "nobody"], ["delete", "nobody"]] {
            let result = try await ctl(arguments)
            #expect(result.status == 1 && result.output.contains("no tenant 'nobody'"), "\(arguments): status \(result.status): \(result.output)")
        }

        #expect(try await ctl(["delete", "acme"]).status == 0)
        #expect(try await ctl(["describe", "acme"]).status == 1)

        node.signal(SIGTERM)
        #expect(await node.exitStatus() == 0, "stderr: \(node.standardError)")
    }
}
