import Foundation
import Logging
import Shared
import Testing

@Suite("AuditLog")
struct AuditLogTests {
    func temporaryFile() -> String {
        NSTemporaryDirectory() + "tributary-audit-\(UUID().uuidString).log"
    }

    func lines(_ path: String) throws -> [[String: String]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        }
    }

    @Test func writesOneJSONObjectPerEventAndAppendsAcrossReopens() async throws {
        let path = temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let log = try AuditLog(path: path, logger: Logger(label: "test"))
            log.recordAuthenticationFailure(clientID: "c1", user: "alice", peer: "10.0.0.1", reason: "badUserNameOrPassword")
            log.record("acl.put", ["key": "/security/acl/default/000010-a", "record": "{\"a\":\"b\\n\"}"])
            await log.flush()
        }
        let reopened = try AuditLog(path: path, logger: Logger(label: "test"))
        reopened.record("acl.delete", ["key": "/security/acl/default/000010-a"])
        await reopened.flush()
        let events = try lines(path)
        #expect(events.map { $0["event"] } == ["auth.failure", "acl.put", "acl.delete"])
        #expect(events[0]["client_id"] == "c1" && events[0]["user"] == "alice" && events[0]["peer"] == "10.0.0.1")
        #expect(events[1]["record"] == "{\"a\":\"b\\n\"}")
        #expect(events.allSatisfy { $0["time"]?.hasSuffix("Z") == true })
    }

    @Test func neverWritesPasswordOrSecretFields() async throws {
        let path = temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try AuditLog(path: path, logger: Logger(label: "test"))
        log.record("user.put", ["user": "bob", "password": "hunter2", "clientSecret": "s3cr3t"])
        await log.flush()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains("hunter2") && !text.contains("s3cr3t") && text.contains("\"user\":\"bob\""))
    }

    @Test func manyConcurrentEventsAllArrive() async throws {
        let path = temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try AuditLog(path: path, logger: Logger(label: "test"))
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<100 { log.record("test", ["n": "\(task)-\(index)"]) }
                }
            }
        }
        await log.flush()
        #expect(Set(try lines(path).compactMap { $0["n"] }).count == 800)
    }

    @Test func anUnopenableFileIsAnError() {
        #expect(throws: AuditLogError.self) { try AuditLog(path: "/nonexistent-dir/audit.log", logger: Logger(label: "test")) }
    }
}
