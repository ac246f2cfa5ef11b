import Logging
import MetaService
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Shared
import Synchronization

/// A session as the broker keeps it in meta under `/mqtt/sessions/<client id>`: the session
/// state, a replay cursor per message shard, when its connection ended, and (in a cluster) which
/// broker owns it, at which owner epoch, whether it is connected there, and its will.
///
/// Standalone writes a record only for a session that outlives its connection. In a cluster every
/// connected client has a record (ownership and will); ``resumable`` says whether its state and
/// cursors are a session to resume.
public struct MQTTStoredSession: Hashable, Sendable {
    /// The broker owning a session and the owner epoch it claimed it at (compare-and-set on the
    /// record moves ownership to epoch + 1).
    public struct Owner: Hashable, Sendable {
        /// The owning broker's node id.
        public var broker: Int
        /// The owner epoch.
        public var epoch: UInt64

        /// An owner.
        public init(broker: Int, epoch: UInt64) {
            self.broker = broker
            self.epoch = epoch
        }
    }

    /// The session's persistent state (subscriptions, in-flight window, QoS 2 receipts).
    public var state: MQTTSessionState
    /// Per shard index: the offset from which records not yet handed to the session must be
    /// replayed on resume.
    public var cursors: [Int64]
    /// When the connection ended, in milliseconds since the Unix epoch (expiry and a pending
    /// will's delay count from here).
    public var disconnectedAtMillis: Int64
    /// The owning broker (cluster only).
    public var owner: Owner?
    /// Whether the client is connected to ``owner``.
    public var connected: Bool
    /// Whether ``state`` and ``cursors`` are a session to resume (false: only ownership and will).
    public var resumable: Bool
    /// Set by a broker that took the session over from a connected owner: the previous owner
    /// clears it when it has written the session's final state.
    public var awaitingHandover: Bool
    /// The will to publish if the connection ends abnormally, or that is pending (not connected).
    public var will: MQTTStoredMessage?
    /// The will delay in seconds.
    public var willDelay: UInt32

    /// The meta key prefix of stored sessions.
    public static let keyPrefix = "/mqtt/sessions/"
    static let encodingVersion: UInt8 = 2

    /// A stored session.
    public init(
        state: MQTTSessionState, cursors: [Int64], disconnectedAtMillis: Int64, owner: Owner? = nil, connected: Bool = false,
        resumable: Bool = true, awaitingHandover: Bool = false, will: MQTTStoredMessage? = nil, willDelay: UInt32 = 0
    ) {
        self.state = state
        self.cursors = cursors
        self.disconnectedAtMillis = disconnectedAtMillis
        self.owner = owner
        self.connected = connected
        self.resumable = resumable
        self.awaitingHandover = awaitingHandover
        self.will = will
        self.willDelay = willDelay
    }

    /// The meta key of `clientIdentifier`'s session.
    public static func key(of clientIdentifier: String) -> String { keyPrefix + clientIdentifier }

    /// When a pending will is due (milliseconds since the epoch), if one is pending.
    public var willDueMillis: Int64? {
        guard will != nil, !connected else { return nil }
        return disconnectedAtMillis + Int64(min(willDelay, state.sessionExpiryInterval)) * 1000
    }

    /// Version byte, disconnect time (varint), cursor count and cursors (varints), then the state;
    /// version 2 adds the owner, flags and will.
    public func encode() throws(MQTTEncodeError) -> [UInt8] {
        var out = ByteBuffer()
        out.writeInteger(Self.encodingVersion)
        out.writeVarint(UInt64(max(disconnectedAtMillis, 0)))
        out.writeVarint(UInt64(cursors.count))
        for cursor in cursors { out.writeVarint(UInt64(max(cursor, 0))) }
        try state.encode(into: &out)
        out.writeBool(owner != nil)
        if let owner {
            out.writeVarint(UInt64(max(owner.broker, 0)))
            out.writeVarint(owner.epoch)
        }
        out.writeBool(connected)
        out.writeBool(resumable)
        out.writeBool(awaitingHandover)
        out.writeBool(will != nil)
        if let will { out.writeLengthPrefixed(bytes: try MQTTBroker.encodeDelayed(will)) }
        out.writeVarint(UInt64(willDelay))
        return Array(out.readableBytesView)
    }

    /// Decodes ``encode()``'s bytes (versions 1 and 2).
    public init(decoding bytes: [UInt8]) throws(WireDecodingError) {
        var buffer = ByteBuffer(bytes: bytes)
        let version = try buffer.readFixed("stored session version", as: UInt8.self)
        guard version == 1 || version == Self.encodingVersion else {
            throw .unknownTag(what: "stored session version", tag: UInt64(version))
        }
        let disconnected = try buffer.readVarint()
        let count = try buffer.readLength("cursor count", limit: 1 << 16)
        var cursors: [Int64] = []
        cursors.reserveCapacity(count)
        for _ in 0..<count { cursors.append(Int64(clamping: try buffer.readVarint())) }
        let state = try MQTTSessionState(decoding: &buffer)
        self.init(state: state, cursors: cursors, disconnectedAtMillis: Int64(clamping: disconnected))
        guard version == 2 else { return }
        if try buffer.readBool("has owner") {
            let broker = Int(clamping: try buffer.readVarint())
            owner = Owner(broker: broker, epoch: try buffer.readVarint())
        }
        connected = try buffer.readBool("connected")
        resumable = try buffer.readBool("resumable")
        awaitingHandover = try buffer.readBool("awaiting handover")
        if try buffer.readBool("has will") {
            let slice = try buffer.readLengthPrefixedSlice("will", limit: MetaLimits.maxValueBytes)
            will = try MQTTBroker.decodeDelayed(Array(slice.readableBytesView))
        }
        willDelay = UInt32(clamping: try buffer.readVarint())
    }

    /// Milliseconds until the session expires at `nowMillis`; `nil` if it never does.
    public func remainingMillis(nowMillis: Int64) -> Int64? {
        guard state.sessionExpiryInterval != UInt32.max else { return nil }
        let end = disconnectedAtMillis + Int64(state.sessionExpiryInterval) * 1000
        return max(end - nowMillis, 0)
    }
}
