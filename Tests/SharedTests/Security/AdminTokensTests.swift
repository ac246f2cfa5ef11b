import Shared
import Testing

@Suite("AdminTokens")
struct AdminTokensTests {
    @Test func parsesTokensRolesCommentsAndBlankLines() throws {
        let tokens = try AdminTokens(parsing: "# tokens\nviewer-token-0123456789 viewer\n\n  admin-token-0123456789\tadmin # ops\n")
        #expect(tokens.count == 2)
        #expect(tokens.role(of: "viewer-token-0123456789") == .viewer)
        #expect(tokens.role(of: "admin-token-0123456789") == .admin)
        #expect(tokens.role(of: "admin-token-012345678") == nil)
        #expect(tokens.role(of: "") == nil)
        #expect(AdminTokens.Role.viewer < .admin)
    }

    @Test func aTokenListedTwiceGetsItsHighestRole() throws {
        let tokens = try AdminTokens(parsing: "same-token-0123456789 admin\nsame-token-0123456789 viewer\n")
        #expect(tokens.role(of: "same-token-0123456789") == .admin)
    }

    @Test func refusesMalformedFilesNamingTheLine() {
        #expect(throws: AdminTokensError.malformedLine(path: "f", line: 2, "unknown role 'root' (expected viewer or admin)")) {
            try AdminTokens(parsing: "token-aaaaaaaaaaaaaaaa admin\ntoken-bbbbbbbbbbbbbbbb root\n", path: "f")
        }
        #expect(throws: AdminTokensError.malformedLine(path: "f", line: 1, "the token must be at least 16 characters")) {
            try AdminTokens(parsing: "short admin\n", path: "f")
        }
        #expect(throws: AdminTokensError.malformedLine(path: "f", line: 1, "expected '<token> <role>'")) {
            try AdminTokens(parsing: "token-aaaaaaaaaaaaaaaa admin extra\n", path: "f")
        }
        #expect(throws: AdminTokensError.empty(path: "f")) { try AdminTokens(parsing: "# none\n", path: "f") }
        #expect(throws: AdminTokensError.self) { try AdminTokens(contentsOfFile: "/nonexistent/tokens") }
    }
}
