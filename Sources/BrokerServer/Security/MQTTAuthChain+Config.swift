import Logging
import NIOCore
import Shared

extension MQTTAuthChain {
    /// The chain `auth.*` describes: the active mechanisms of `auth.chain` in order, over the
    /// user records of `directory`. Throws (naming the key) when JWT keys cannot be loaded or the
    /// HTTP URL cannot be used.
    public static func configured(
        _ settings: TributaryConfig.AuthSettings, allowAnonymous: Bool, directory: MQTTUserDirectory, logger: Logger
    ) throws(ConfigurationError) -> MQTTAuthChain {
        var authenticators: [any MQTTAuthenticator] = []
        for mechanism in settings.activeChain {
            switch mechanism {
            case .x509:
                authenticators.append(MQTTX509Authenticator(logger: logger))
            case .password:
                authenticators.append(MQTTPasswordAuthenticator(directory: directory, logger: logger))
            case .jwt:
                let keys: JWTKeySet
                do {
                    keys = try JWTKeySet.load(secretFiles: settings.jwtSecretFiles, publicKeyFiles: settings.jwtPublicKeyFiles)
                } catch {
                    throw .badValue(key: "auth.jwt", source: "key files", problem: error.description)
                }
                let options = JWTValidationOptions(
                    issuer: settings.jwtIssuer, audience: settings.jwtAudience, leeway: Double(settings.jwtLeeway))
                authenticators.append(MQTTJWTAuthenticator(
                    verifier: JWTVerifier(keySet: keys, options: options),
                    usernameClaim: MQTTJWTAuthenticator.UsernameClaim(rawValue: settings.jwtUsernameClaim) ?? .username,
                    logger: logger))
            case .http:
                guard let url = settings.httpURL,
                      let http = MQTTHTTPAuthSettings(
                        url: url, timeout: .milliseconds(Int64(settings.httpTimeoutMilliseconds)),
                        cacheTTL: .seconds(Int64(settings.httpCacheTTL)),
                        onError: MQTTHTTPAuthSettings.OnError(rawValue: settings.httpOnError) ?? .deny)
                else {
                    throw .badValue(key: "auth.http.url", source: "configuration", problem: "not a usable http:// or https:// URL")
                }
                do {
                    authenticators.append(try MQTTHTTPAuthenticator(settings: http, logger: logger))
                } catch {
                    throw .badValue(key: "auth.http.url", source: "configuration", problem: "\(error)")
                }
            }
        }
        return MQTTAuthChain(authenticators, allowAnonymous: allowAnonymous, logger: logger)
    }
}
