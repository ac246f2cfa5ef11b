import ArgumentParser
import Foundation
import Logging
import MetaService
import NIOCore
import NIOSSL
import Shared

extension CtlConnectionOptions {
    /// Runs `body` with a ``MetaClient`` of the members named by `--meta` (redirects followed,
    /// retried until `--timeout`). Errors are printed and make the command exit 1.
    func withMetaClient(_ body: (MetaClient) async throws -> Void) async throws {
        var tls: NIOSSLContext?
        if let config {
            do {
                let loaded = try await ConfigLoader(filePath: config, environment: ProcessInfo.processInfo.environment, flags: [:]).load()
                tls = try loaded.rpc.tls.makeClientContext()
            } catch {
                FileHandle.standardError.write(Data("tributary ctl: \(error)\n".utf8))
                throw ExitCode(78)
            }
        }
        let addresses = meta.split(separator: ",").map(String.init)
        let timeout = TimeAmount.milliseconds(Int64(self.timeout * 1000))
        let client = MetaClient(addresses: addresses, options: .init(timeout: timeout, attemptTimeout: min(timeout, .seconds(2)))) { [tls] address in
            var configuration = RPCClientConfiguration(endpoints: RPCEndpoint(address).map { [$0] } ?? [])
            configuration.tls = tls
            return RPCClient(configuration: configuration, logger: Logger(label: "tributary.ctl"))
        }
        do {
            try await body(client)
        } catch {
            await client.close()
            FileHandle.standardError.write(Data("tributary ctl: \(error)\n".utf8))
            throw ExitCode(1)
        }
        await client.close()
    }
}

extension MetaKeyValue {
    /// How `ctl` prints a record.
    var ctlLine: String {
        "\(key) = \(String(decoding: value, as: UTF8.self))  (mod=\(modRevision) create=\(createRevision) version=\(version)\(lease == 0 ? "" : " lease=\(lease)"))"
    }
}

extension MetaCommandResult {
    /// How `ctl` prints a write's result.
    var ctlLine: String {
        switch self {
        case .written(let revision, _): "OK revision=\(revision)"
        case .deleted(let revision, let count): "deleted=\(count) revision=\(revision)"
        case .compareFailed(let revision, let current):
            "compare failed revision=\(revision) current=\(current.map { "mod=\($0.modRevision)" } ?? "absent")"
        case .lease(let revision): "OK revision=\(revision)"
        case .rejected(let error): "rejected: \(error)"
        }
    }
}
