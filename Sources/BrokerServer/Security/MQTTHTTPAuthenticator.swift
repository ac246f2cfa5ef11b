import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Shared

/// Asks an HTTP service (as EMQX's HTTP authentication does): `POST` of
/// `{"clientid","username","password","peerhost","protocol"}` as JSON; a 200 answer
/// `{"result":"allow"|"deny"|"ignore","is_superuser":bool}` decides. Anything else (timeout,
/// refused connection, another status, another body) is an error, logged, and answered as
/// `auth.http.on-error` says (deny with 0x87 by default, or ignore). Decisions are cached per
/// client id, user name and password digest for the configured TTL.
///
/// The call runs on the connection's event loop (no thread hop), over a fresh connection.
public final class MQTTHTTPAuthenticator: MQTTAuthenticator {
    private struct CacheKey: Hashable {
        var clientIdentifier: String
        var userName: String?
        var passwordDigest: [UInt8]
    }

    private struct Cached {
        var outcome: MQTTAuthOutcome
        var expires: NIODeadline
    }

    let settings: MQTTHTTPAuthSettings
    let tls: NIOSSLContext?
    let logger: Logger
    private let cache = NIOLockedValueBox<[CacheKey: Cached]>([:])

    /// An authenticator calling the service in `settings` (`https` URLs verify the server
    /// against the system trust roots).
    public init(settings: MQTTHTTPAuthSettings, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        if settings.scheme == "https" {
            self.tls = try NIOSSLContext(configuration: .makeClientConfiguration())
        } else {
            self.tls = nil
        }
    }

    public func authenticate(_ credentials: MQTTConnectCredentials, on eventLoop: any EventLoop) -> EventLoopFuture<MQTTAuthOutcome> {
        let key = CacheKey(
            clientIdentifier: credentials.clientIdentifier, userName: credentials.userName,
            passwordDigest: SecretDigest.sha256(Array(credentials.password?.readableBytesView ?? ByteBuffer().readableBytesView)))
        let now = NIODeadline.now()
        if settings.cacheTTL > .zero, let cached = cache.withLockedValue({ $0[key] }), cached.expires > now {
            return eventLoop.makeSucceededFuture(cached.outcome)
        }
        return call(credentials, on: eventLoop).map { outcome in
            if self.settings.cacheTTL > .zero { self.remember(outcome, for: key) }
            return outcome
        }.flatMapErrorThrowing { error in
            self.logger.warning("mqtt authentication service failed", metadata: [
                "url": "\(self.settings.scheme)://\(self.settings.host):\(self.settings.port)\(self.settings.path)",
                "error": "\(error)", "client": "\(credentials.clientIdentifier)", "on-error": "\(self.settings.onError.rawValue)"])
            return self.settings.onError == .deny ? .deny(.notAuthorized) : .ignore
        }
    }

    private func remember(_ outcome: MQTTAuthOutcome, for key: CacheKey) {
        let expires = NIODeadline.now() + settings.cacheTTL
        cache.withLockedValue { cache in
            if cache.count >= settings.maximumCachedDecisions {
                let now = NIODeadline.now()
                cache = cache.filter { $0.value.expires > now }
                if cache.count >= settings.maximumCachedDecisions {
                    // Still full of live entries: drop the ones closest to expiry.
                    let sorted = cache.sorted { $0.value.expires < $1.value.expires }
                    for (staleKey, _) in sorted.prefix(cache.count / 2) { cache[staleKey] = nil }
                }
            }
            cache[key] = Cached(outcome: outcome, expires: expires)
        }
    }

    /// One request to the service.
    private func call(_ credentials: MQTTConnectCredentials, on eventLoop: any EventLoop) -> EventLoopFuture<MQTTAuthOutcome> {
        let body: ByteBuffer
        do {
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: requestBody(credentials), options: [.sortedKeys]))
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let promise = eventLoop.makePromise(of: (HTTPResponseStatus, ByteBuffer).self)
        let settings = self.settings
        let tls = self.tls
        let timeout = eventLoop.scheduleTask(in: settings.timeout) { promise.fail(MQTTHTTPAuthError.timedOut) }
        let connected = ClientBootstrap(group: eventLoop)
            .connectTimeout(settings.timeout)
            .channelInitializer { channel in
                do {
                    if let tls {
                        let handler = try NIOSSLClientHandler(context: tls, serverHostname: settings.host)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(MQTTHTTPAuthResponseHandler(promise: promise))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .connect(host: settings.host, port: settings.port)
        connected.whenSuccess { channel in
            var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: settings.path)
            head.headers.add(name: "Host", value: settings.host.contains(":") ? "[\(settings.host)]:\(settings.port)" : "\(settings.host):\(settings.port)")
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(body.readableBytes))
            head.headers.add(name: "Connection", value: "close")
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
        connected.whenFailure { promise.fail($0) }
        promise.futureResult.whenComplete { _ in timeout.cancel() }
        return promise.futureResult.flatMapThrowing { response in
            try Self.decision(status: response.0, body: response.1, credentials: credentials)
        }
    }

    private func requestBody(_ credentials: MQTTConnectCredentials) -> [String: Any] {
        let version: String
        switch credentials.protocolVersion {
        case .v3_1: version = "3.1"
        case .v3_1_1: version = "3.1.1"
        case .v5: version = "5.0"
        }
        var request: [String: Any] = [
            "clientid": credentials.clientIdentifier,
            "protocol": "mqtt",
            "protocol_version": version,
        ]
        request["username"] = credentials.userName ?? NSNull()
        request["password"] = credentials.passwordText ?? NSNull()
        request["peerhost"] = credentials.remoteAddress?.ipAddress ?? NSNull()
        if let commonName = credentials.certificateCommonName { request["cert_common_name"] = commonName }
        return request
    }

    /// The service's answer as a decision.
    static func decision(status: HTTPResponseStatus, body: ByteBuffer, credentials: MQTTConnectCredentials) throws -> MQTTAuthOutcome {
        guard status == .ok else { throw MQTTHTTPAuthError.status(status.code) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
              let result = object["result"] as? String
        else { throw MQTTHTTPAuthError.badBody("expected a JSON object with \"result\"") }
        switch result {
        case "allow":
            let superuser = object["is_superuser"] as? Bool ?? false
            return .allow(MQTTAuthContext(
                userName: credentials.userName, isSuperuser: superuser,
                certificateCommonName: credentials.certificateCommonName, mechanism: .http))
        case "deny":
            return .deny(.badUserNameOrPassword)
        case "ignore":
            return .ignore
        default:
            throw MQTTHTTPAuthError.badBody("unknown result '\(result)'")
        }
    }
}
