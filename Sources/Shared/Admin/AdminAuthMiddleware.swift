import Hummingbird
import NIOCore

/// Guards the admin HTTP API with bearer tokens (`admin.auth.tokens-file`): a request without a
/// known `Authorization: Bearer <token>` gets 401, a `viewer` token outside `/metrics` and
/// `/health/*` gets 403, an `admin` token passes everywhere. `/health/live` stays open so that
/// liveness probes need no secret (it reveals only that the process runs).
public struct AdminAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The known tokens.
    public let tokens: AdminTokens
    /// Where refused requests are recorded (`admin.auth.failure`: method, path, status).
    public let audit: AuditLog?

    /// A middleware checking `tokens`.
    public init(tokens: AdminTokens, audit: AuditLog? = nil) {
        self.tokens = tokens
        self.audit = audit
    }

    /// The role a path needs, or `nil` when it is open.
    public static func requiredRole(path: String) -> AdminTokens.Role? {
        if path == "/health/live" { return nil }
        if path == "/metrics" || path.hasPrefix("/health/") { return .viewer }
        return .admin
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let required = Self.requiredRole(path: request.uri.path) else { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              let role = tokens.role(of: String(header.dropFirst("Bearer ".count)))
        else {
            audit?.record("admin.auth.failure", ["method": request.method.rawValue, "path": request.uri.path, "status": "401"])
            return Response(
                status: .unauthorized,
                headers: [.wwwAuthenticate: "Bearer realm=\"tributary\"", .contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"error":"unauthorized"}"# + "\n")))
        }
        guard role >= required else {
            audit?.record("admin.auth.failure", [
                "method": request.method.rawValue, "path": request.uri.path, "status": "403", "role": role.rawValue,
            ])
            return Response(
                status: .forbidden, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"error":"forbidden","role":"\#(role.rawValue)"}"# + "\n")))
        }
        return try await next(request, context)
    }
}
