import Foundation
import Testing

/// Mutual TLS between nodes and ctl on the binary RPC (`rpc.tls.*`), with openssl-made
/// certificate authorities, and certificate reload on SIGHUP.
@Suite("node mTLS processes", .serialized)
struct MetaTLSProcessTests {
    /// Makes two CAs and certificates signed by them in `directory` with openssl: `ca1`, `ca2`,
    /// and `<name>.pem`/`<name>.key` for node1 (CA 1), client1 (CA 1), node2 (CA 2), client2 (CA 2).
    static func makePKI(in directory: String) throws {
        let script = """
            set -e
            cd "$1"
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.cnf
            for ca in ca1 ca2; do
              openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $ca.key -out $ca.pem -days 2 -subj /CN=$ca
            done
            for pair in node1:ca1 client1:ca1 node2:ca2 client2:ca2; do
              name=${pair%%:*}; ca=${pair##*:}
              openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $name.key -out $name.csr -subj /CN=$name
              openssl x509 -req -in $name.csr -CA $ca.pem -CAkey $ca.key -CAcreateserial -out $name.pem -days 2 -extfile san.cnf
            done
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, "sh", directory]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "openssl could not make the certificates")
    }

    /// Writes a YAML configuration naming the RPC TLS files; returns its path.
    static func config(_ directory: String, _ name: String, cert: String, key: String, ca: String) throws -> String {
        let path = "\(directory)/\(name).yaml"
        let yaml = "rpc:\n  tls:\n    cert-file: \(cert)\n    key-file: \(key)\n    ca-file: \(ca)\n"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func copy(_ source: String, over target: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: source))
        try data.write(to: URL(fileURLWithPath: target), options: .atomic)
    }

    @Test func onlyCertificatesFromTheCAAreAcceptedAndAReloadRotatesThem() async throws {
        let pki = TributaryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: pki) }
        try Self.makePKI(in: pki)
        // The node's files live at fixed paths, rotated in place later.
        let live = "\(pki)/live"
        try FileManager.default.createDirectory(atPath: live, withIntermediateDirectories: true)
        try Self.copy("\(pki)/node1.pem", over: "\(live)/node.pem")
        try Self.copy("\(pki)/node1.key", over: "\(live)/node.key")
        try Self.copy("\(pki)/ca1.pem", over: "\(live)/ca.pem")
        let nodeConfig = try Self.config(pki, "node", cert: "\(live)/node.pem", key: "\(live)/node.key", ca: "\(live)/ca.pem")
        let good = try Self.config(pki, "good", cert: "\(pki)/client1.pem", key: "\(pki)/client1.key", ca: "\(pki)/ca1.pem")
        // Trusts the server's CA but holds a certificate of another CA.
        let rogue = try Self.config(pki, "rogue", cert: "\(pki)/client2.pem", key: "\(pki)/client2.key", ca: "\(pki)/ca1.pem")
        let rotated = try Self.config(pki, "rotated", cert: "\(pki)/client2.pem", key: "\(pki)/client2.key", ca: "\(pki)/ca2.pem")

        let ports = try await MetaClusterProcessTests.freePorts(3)
        let metaAddress = "127.0.0.1:\(ports[0])"
        let metaData = TributaryProcess.temporaryDirectory()
        let meta = try TributaryProcess(
            ["meta", "--id", "1", "--data-dir", metaData, "--listen", metaAddress, "--admin-port", "0", "--tick-ms", "50", "--config", nodeConfig],
            dataDirectory: metaData)
        defer { meta.signal(SIGKILL) }
        _ = try #require(await meta.readyFields(), "meta not ready: \(meta.standardError)")

        // ctl: a certificate from the CA works; another CA's, or none, is refused at the handshake.
        var ok = (status: Int32?.none, out: "", err: "")
        let led = try await eventually(timeout: .seconds(20)) {
            ok = try await runCtl(["meta", "status", "--meta", metaAddress, "--config", good])
            return ok.status == 0 && ok.out.contains("role=leader")
        }
        #expect(led, "good ctl: \(ok.out) \(ok.err)")
        let refused = try await runCtl(["meta", "status", "--meta", metaAddress, "--config", rogue, "--timeout", "3"])
        #expect(refused.status == 1, "rogue ctl: \(refused.out) \(refused.err)")
        let plain = try await runCtl(["meta", "status", "--meta", metaAddress, "--timeout", "3"])
        #expect(plain.status == 1, "plain ctl: \(plain.out) \(plain.err)")

        // Nodes: a journal with a rogue certificate cannot register; one with the CA's does.
        let rogueData = TributaryProcess.temporaryDirectory(), goodData = TributaryProcess.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: rogueData)
            try? FileManager.default.removeItem(atPath: goodData)
        }
        let rogueNode = try Self.config(pki, "rogue-node", cert: "\(pki)/node2.pem", key: "\(pki)/node2.key", ca: "\(pki)/ca1.pem")
        let goodNode = try Self.config(pki, "good-node", cert: "\(pki)/node1.pem", key: "\(pki)/node1.key", ca: "\(pki)/ca1.pem")
        let rogueJournal = try TributaryProcess([
            "journal", "--id", "8", "--data-dir", rogueData, "--listen", "127.0.0.1:\(ports[1])", "--meta", metaAddress,
            "--admin-port", "0", "--config", rogueNode,
        ])
        defer { rogueJournal.signal(SIGKILL) }
        let goodJournal = try TributaryProcess([
            "journal", "--id", "7", "--data-dir", goodData, "--listen", "127.0.0.1:\(ports[2])", "--meta", metaAddress,
            "--admin-port", "0", "--config", goodNode,
        ])
        defer { goodJournal.signal(SIGKILL) }
        var status = ""
        let registered = try await eventually(timeout: .seconds(30)) {
            status = try await runCtl(["cluster", "status", "--meta", metaAddress, "--config", good]).out
            return status.contains("journal  7")
        }
        #expect(registered, "status: \(status); journal: \(goodJournal.standardError)")
        let rogueFailed = await eventually(timeout: .seconds(30)) { rogueJournal.standardError.contains("meta registration failed") }
        #expect(rogueFailed, "rogue journal: \(rogueJournal.standardError)")
        status = try await runCtl(["cluster", "status", "--meta", metaAddress, "--config", good]).out
        #expect(!status.contains("journal  8"), "status: \(status)")
        goodJournal.signal(SIGKILL)
        rogueJournal.signal(SIGKILL)

        // Rotation: the node's files now hold CA 2's certificate and CA; SIGHUP reloads them.
        try Self.copy("\(pki)/node2.pem", over: "\(live)/node.pem")
        try Self.copy("\(pki)/node2.key", over: "\(live)/node.key")
        try Self.copy("\(pki)/ca2.pem", over: "\(live)/ca.pem")
        meta.signal(SIGHUP)
        let reloaded = try await eventually(timeout: .seconds(20)) {
            try await runCtl(["meta", "status", "--meta", metaAddress, "--config", rotated, "--timeout", "2"]).status == 0
        }
        #expect(reloaded, "meta: \(meta.standardError)")
        #expect(meta.standardError.contains("reloaded the RPC TLS"))
        let old = try await runCtl(["meta", "status", "--meta", metaAddress, "--config", good, "--timeout", "3"])
        #expect(old.status == 1, "a CA 1 client after the rotation: \(old.out) \(old.err)")

        // A bad new file is logged and the current certificate kept.
        try "not a certificate".write(toFile: "\(live)/node.pem", atomically: true, encoding: .utf8)
        meta.signal(SIGHUP)
        let logged = await eventually(timeout: .seconds(20)) { meta.standardError.contains("do not load; keeping the previous certificate") }
        #expect(logged, "meta: \(meta.standardError)")
        let still = try await runCtl(["meta", "status", "--meta", metaAddress, "--config", rotated])
        #expect(still.status == 0, "after a bad reload: \(still.out) \(still.err)")

        meta.signal(SIGTERM)
        #expect(await meta.exitStatus() == 0, "meta: \(meta.standardError)")
    }
}
