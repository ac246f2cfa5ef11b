import Logging
import ServiceLifecycle
import Shared
import UnixSignals

/// Reloads the node's RPC certificate, key and CA files on SIGHUP (``RPCTLSReloader``): new
/// connections — accepted and made — use the new material; a file that does not load is logged
/// and the old material kept.
struct RPCTLSReloadService: Service {
    let reloader: RPCTLSReloader
    let logger: Logger

    func run() async throws {
        let reloader = self.reloader
        let logger = self.logger
        await cancelWhenGracefulShutdown {
            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                do {
                    try reloader.reload()
                    logger.notice("SIGHUP: reloaded the RPC TLS certificate, key and CA files", metadata: [
                        "cert-file": "\(reloader.files.certificateFile ?? "")", "ca-file": "\(reloader.files.caFile ?? "")",
                    ])
                } catch {
                    logger.error("SIGHUP: the RPC TLS files do not load; keeping the previous certificate", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
