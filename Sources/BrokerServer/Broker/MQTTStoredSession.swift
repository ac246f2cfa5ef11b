import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Shared
import Synchronization

/// A persistent session as the broker keeps it in meta under `/mqtt/sessions/<client id>`: the
/// session state, a replay cursor per message shard and when its connection ended.
public struct MQTTStoredSession: Hashable, Sendable {
    /// The session's persistent state (subscriptions, in-flight window, QoS 2 receipts).
    public var state: MQTTSessionState
    /// Per shard index: the offset from which records not yet handed to the session must be
    /// replayed on resume.
    public var cursors: [Int64]
    /// When the connection ended, in milliseconds since the Unix epoch (expiry counts from here).
    public var disconnectedAtMillis: Int64

    /// The meta key prefix of stored sessions.
    public static let keyPrefix = "/mqtt/sessions/"
    static let encodingVersion: UInt8 = 1

    /// A stored session.
    public init(state: MQTTSessionState, cursors: [Int64], disconnectedAtMillis: Int64) {
        self.state = state
        self.cursors = cursors
        self.disconnectedAtMillis = disconnectedAtMillis
    }

    /// The meta key of `clientIdentifier`'s session.
    public static func key(of clientIdentifier: String) -> String { keyPrefix + clientIdentifier }

    /// Version byte, disconnect time (varint), cursor count and cursors (varints), then the state.
    public func encode() throws(MQTTEncodeError) -> [UInt8] {
        var out = ByteBuffer()
        out.writeInteger(Self.encodingVersion)
        out.writeVarint(UInt64(max(disconnectedAtMillis, 0)))
        out.writeVarint(UInt64(cursors.count))
        for cursor in cursors { out.writeVarint(UInt64(max(cursor, 0))) }
        try state.encode(into: &out)
        return Array(out.readableBytesView)
    }

    /// Decodes ``encode()``'s bytes.
    public init(decoding bytes: [UInt8]) throws(WireDecodingError) {
        var buffer = ByteBuffer(bytes: bytes)
        let version = try buffer.readFixed("stored session version", as: UInt8.self)
        guard version == Self.encodingVersion else { throw .unknownTag(what: "stored session version", tag: UInt64(version)) }
        let disconnected = try buffer.readVarint()
        let count = try buffer.readLength("cursor count", limit: 1 << 16)
        var cursors: [Int64] = []
        cursors.reserveCapacity(count)
        for _ in 0..<count { cursors.append(Int64(clamping: try buffer.readVarint())) }
        let state = try MQTTSessionState(decoding: &buffer)
        self.init(state: state, cursors: cursors, disconnectedAtMillis: Int64(clamping: disconnected))
    }

    /// Milliseconds until the session expires at `nowMillis`; `nil` if it never does.
    public func remainingMillis(nowMillis: Int64) -> Int64? {
        guard state.sessionExpiryInterval != UInt32.max else { return nil }
        let end = disconnectedAtMillis + Int64(state.sessionExpiryInterval) * 1000
        return max(end - nowMillis, 0)
    }
}
