import NIOHTTP1

/// Decides whether an HTTP/1.1 request may become an MQTT-over-WebSocket connection.
///
/// A request is accepted only on the configured path and only when it offers the `mqtt`
/// WebSocket subprotocol (MQTT 5.0 §6, 3.1.1 §6). Any other path is 404; a request on the path
/// that is not a WebSocket upgrade, or that does not offer `mqtt`, is 400. Pure: no IO.
public struct MQTTWebSocketUpgradePolicy: Hashable, Sendable {
    /// What to do with a request.
    public enum Decision: Hashable, Sendable {
        /// Upgrade, answering `Sec-WebSocket-Protocol: mqtt`.
        case accept
        /// The request is not for the MQTT path: 404.
        case notFound(path: String)
        /// The request is for the MQTT path but cannot be upgraded: 400, with the reason.
        case badRequest(reason: String)
    }

    /// The subprotocol MQTT over WebSocket must negotiate.
    public static let subprotocol = "mqtt"

    /// The only path that upgrades, e.g. `/mqtt`.
    public let path: String

    /// A policy for `path` (a leading `/` is added when missing).
    public init(path: String = "/mqtt") {
        self.path = path.hasPrefix("/") ? path : "/" + path
    }

    /// The decision for `head`; the query string is ignored when matching the path.
    public func decide(_ head: HTTPRequestHead) -> Decision {
        let requestPath = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard requestPath == path else { return .notFound(path: requestPath) }
        guard head.method == .GET else { return .badRequest(reason: "method \(head.method) is not GET") }
        let upgrades = Self.tokens(head.headers[canonicalForm: "upgrade"].map(String.init))
        guard upgrades.contains("websocket") else { return .badRequest(reason: "not a WebSocket upgrade request") }
        let offered = Self.tokens(head.headers[canonicalForm: "sec-websocket-protocol"].map(String.init))
        guard !offered.isEmpty else { return .badRequest(reason: "no WebSocket subprotocol offered; MQTT requires 'mqtt'") }
        guard offered.contains(Self.subprotocol) else {
            return .badRequest(reason: "subprotocols \(offered.joined(separator: ",")) offered; MQTT requires 'mqtt'")
        }
        return .accept
    }

    /// Lower-cased, trimmed tokens of comma-separated header values.
    private static func tokens(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: " \t").lowercased() }
            .filter { !$0.isEmpty }
    }
}

extension Substring {
    /// This text without leading and trailing characters from `set`.
    fileprivate func trimmingCharacters(in set: String) -> String {
        var slice = self[...]
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
