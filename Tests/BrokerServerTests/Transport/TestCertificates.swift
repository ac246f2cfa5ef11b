import Foundation

/// Certificates made by `openssl` in a temporary directory for the TLS tests; the directory is
/// removed with ``remove()``.
struct TestCertificates {
    enum Failure: Error {
        case openssl(arguments: [String], status: Int32)
    }

    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mqtt-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func path(_ name: String) -> String { directory + "/" + name }

    /// A self-signed certificate for localhost/127.0.0.1 valid for a day; returns (cert, key).
    func selfSigned(name: String = "server") throws -> (certificate: String, key: String) {
        let certificate = path("\(name)-cert.pem"), key = path("\(name)-key.pem")
        try Self.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", key, "-out", certificate,
        ])
        return (certificate, key)
    }

    /// A self-signed certificate whose validity ended in 2020; returns (cert, key).
    func expired(name: String = "expired") throws -> (certificate: String, key: String) {
        let certificate = path("\(name)-cert.pem"), key = path("\(name)-key.pem"), request = path("\(name).csr")
        let database = path("\(name)-ca")
        try FileManager.default.createDirectory(atPath: database, withIntermediateDirectories: true)
        try "".write(toFile: database + "/index.txt", atomically: true, encoding: .utf8)
        try "01\n".write(toFile: database + "/serial", atomically: true, encoding: .utf8)
        let configuration = """
            [ ca ]
            default_ca = local
            [ local ]
            database = \(database)/index.txt
            serial = \(database)/serial
            new_certs_dir = \(database)
            default_md = sha256
            policy = any
            [ any ]
            commonName = supplied

            """
        try configuration.write(toFile: database + "/ca.cnf", atomically: true, encoding: .utf8)
        try Self.openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-subj", "/CN=localhost", "-keyout", key, "-out", request,
        ])
        try Self.openssl([
            "ca", "-batch", "-notext", "-config", database + "/ca.cnf", "-selfsign", "-keyfile", key, "-in", request,
            "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-out", certificate,
        ])
        return (certificate, key)
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure.openssl(arguments: arguments, status: process.terminationStatus) }
    }
}
