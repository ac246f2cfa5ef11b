import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The admin HTTP API behind bearer tokens (`admin.auth.tokens-file`): 401 without a known
/// token, 403 for a viewer outside /metrics and /health, `/health/live` open; a bad tokens file
/// stops the node with the line at fault.
@Suite("Admin API authentication", .serialized)
struct AdminAuthProcessTests {
    static let viewer = "viewer-token-0123456789"
    static let admin = "admin-token-abcdefghijklmnop"

    func request(_ url: String, token: String?) async throws -> (status: Int, headers: [AnyHashable: Any]) {
        var request = URLRequest(url: try #require(URL(string: url)))
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (_, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        return (http.statusCode, http.allHeaderFields)
    }

    @Test func tokensAndRolesGuardTheAPI() async throws {
        let directory = TributaryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/tokens"
        try "# admin API tokens\n\(Self.viewer) viewer\n\n\(Self.admin)   admin  # ops\n".write(toFile: file, atomically: true, encoding: .utf8)
        let node = try TributaryProcess.standalone(environment: ["TRIBUTARY_ADMIN_AUTH_TOKENS_FILE": file])
        let fields = try #require(await node.readyFields(), "stderr: \(node.standardError)")
        let base = "http://" + (try #require(fields["admin"]))

        #expect(try await request(base + "/health/live", token: nil).status == 200)
        let anonymous = try await request(base + "/metrics", token: nil)
        #expect(anonymous.status == 401)
        #expect((anonymous.headers["Www-Authenticate"] as? String ?? anonymous.headers["WWW-Authenticate"] as? String)?.hasPrefix("Bearer") == true,
                "\(anonymous.headers)")
        #expect(try await request(base + "/metrics", token: "viewer-token-0123456788").status == 401)
        #expect(try await request(base + "/metrics", token: Self.viewer + "x").status == 401)
        #expect(try await request(base + "/health/ready", token: nil).status == 401)
        #expect(try await request(base + "/metrics", token: Self.viewer).status == 200)
        #expect(try await request(base + "/health/ready", token: Self.viewer).status == 200)
        #expect(try await request(base + "/admin/anything", token: Self.viewer).status == 403)
        #expect(try await request(base + "/metrics", token: Self.admin).status == 200)
        // An admin passes authorization everywhere (no such route: 404, not 401/403).
        #expect(try await request(base + "/admin/anything", token: Self.admin).status == 404)
        // Refusals are audited, never with the token presented.
        let audit = try #require(node.dataDirectory) + "/audit.log"
        let audited = await eventually(timeout: .seconds(10)) {
            let text = (try? String(contentsOfFile: audit, encoding: .utf8)) ?? ""
            return text.contains("\"status\":\"403\"") && text.contains("\"path\":\"/metrics\"")
        }
        #expect(audited)
        let text = (try? String(contentsOfFile: audit, encoding: .utf8)) ?? ""
        #expect(!text.contains("viewer-token"), "\(text)")
        node.signal(SIGTERM)
        #expect(await node.exitStatus() == 0, "stderr: \(node.standardError)")
    }

    @Test func aBadTokensFileStopsTheNode() async throws {
        let directory = TributaryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cases: [(String?, String)] = [
            ("\(Self.viewer) viewer\n\(Self.admin) root\n", "line 2: unknown role 'root'"),
            ("short admin\n", "line 1: the token must be at least 16 characters"),
            ("# nothing\n", "holds no tokens"),
            (nil, "cannot be read"),
        ]
        for (index, (content, message)) in cases.enumerated() {
            let file = directory + "/tokens-\(index)"
            if let content { try content.write(toFile: file, atomically: true, encoding: .utf8) }
            let node = try TributaryProcess.standalone(environment: ["TRIBUTARY_ADMIN_AUTH_TOKENS_FILE": file])
            #expect(await node.exitStatus() == 78)
            #expect(node.standardError.contains("admin.auth.tokens-file") && node.standardError.contains(message), "\(node.standardError)")
        }
    }
}
