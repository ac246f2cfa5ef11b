import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The admin HTTP API of a node (Hummingbird): `/metrics` (Prometheus text), `/health/live`
/// and `/health/ready`. It runs as one service of the node's `ServiceGroup`.
public struct AdminServer: Service {
    private let application: any ApplicationProtocol

    /// Creates the server.
    /// - Parameters:
    ///   - listener: Where to bind; port 0 picks a free port.
    ///   - readiness: Consulted by `/health/ready`.
    ///   - tokens: Bearer tokens guarding every route but `/health/live` (``AdminAuthMiddleware``);
    ///     `nil` leaves the API open.
    ///   - audit: Where refused requests are recorded.
    ///   - logger: Logger for the HTTP server.
    ///   - onBound: Called with the bound port once the server listens.
    public init(
        listener: TributaryConfig.Listener,
        readiness: NodeReadiness,
        tokens: AdminTokens? = nil,
        audit: AuditLog? = nil,
        logger: Logger,
        onBound: @escaping @Sendable (Int) async -> Void
    ) {
        let router = Router()
        if let tokens { router.add(middleware: AdminAuthMiddleware(tokens: tokens, audit: audit)) }
        router.get("/health/live") { _, _ in
            Self.json(.ok, #"{"status":"live"}"#)
        }
        router.get("/health/ready") { _, _ in
            let pending = readiness.pending
            if pending.isEmpty {
                return Self.json(.ok, #"{"status":"ready"}"#)
            }
            let list = pending.map { JSONLogHandler.quoted($0) }.joined(separator: ",")
            return Self.json(.serviceUnavailable, #"{"status":"starting","pending":["# + list + "]}")
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: Observability.renderMetrics()))
            )
        }
        self.application = Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(listener.host, port: listener.port),
                serverName: "tributary"
            ),
            onServerRunning: { channel in
                await onBound(channel.localAddress?.port ?? listener.port)
            },
            logger: logger
        )
    }

    private static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body + "\n"))
        )
    }

    /// Serves until graceful shutdown.
    public func run() async throws {
        try await application.run()
    }
}
