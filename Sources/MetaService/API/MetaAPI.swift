import NIOCore
import Shared

/// The MetaService protocol (service 2), served by every meta node.
///
/// | id         | name                  | request                     | response                 |
/// |------------|-----------------------|-----------------------------|--------------------------|
/// | 0x00020001 | `raft.step`           | ``RaftStepRequest``         | ``RPCEmpty``             |
/// | 0x00020002 | `meta.put`            | ``MetaPutRequest``          | ``MetaWriteResponse``    |
/// | 0x00020003 | `meta.get`            | ``MetaGetRequest``          | ``MetaGetResponse``      |
/// | 0x00020004 | `meta.range`          | ``MetaRangeRequest``        | ``MetaRangeResponse``    |
/// | 0x00020005 | `meta.delete`         | ``MetaDeleteRequest``       | ``MetaWriteResponse``    |
/// | 0x00020006 | `meta.cas`            | ``MetaCASRequest``          | ``MetaWriteResponse``    |
/// | 0x00020007 | `meta.watch` (stream) | ``MetaWatchRequest``        | ``MetaWatchResponse``…   |
/// | 0x00020008 | `meta.status`         | ``RPCEmpty``                | ``MetaStatusResponse``   |
/// | 0x00020009 | `meta.leaseGrant`     | ``MetaLeaseGrantRequest``   | ``MetaLeaseResponse``    |
/// | 0x0002000A | `meta.leaseKeepAlive` | ``MetaIDRequest``           | ``MetaLeaseResponse``    |
/// | 0x0002000B | `meta.leaseRevoke`    | ``MetaIDRequest``           | ``MetaLeaseResponse``    |
/// | 0x0002000C | `meta.addMember`      | ``MetaAddMemberRequest``    | ``RPCEmpty``             |
/// | 0x0002000D | `meta.removeMember`   | ``MetaIDRequest``           | ``RPCEmpty``             |
/// | 0x0002000E | `meta.transferLeader` | ``MetaIDRequest``           | ``RPCEmpty``             |
/// | 0x0002000F | `meta.forwardWrite`   | ``MetaForwardWriteRequest`` | ``MetaWriteResponse``    |
/// | 0x00020010 | `meta.leaseList`      | ``RPCEmpty``                | ``MetaLeaseListResponse``|
///
/// Key-value writes (`put`, `delete`, `cas`) sent to a follower are forwarded to the leader it
/// knows (`meta.forwardWrite`, used between members) and answered with the leader's result.
/// Errors: lease calls and membership calls on a follower — and writes a follower cannot
/// forward (the forward reached a stale leader) — fail with `RPCError(.notLeader)` whose detail
/// is the leader's address as UTF-8 (`host:port`), or `unavailable` while no leader is known;
/// ``MetaClient`` follows both. Rejected commands map to
/// `invalidArgument` (bad key/value), `notFound` (lease) or `alreadyExists` (lease); a watch
/// from a compacted revision fails with `failedPrecondition` whose detail is the oldest
/// retained revision as a varint.
public enum MetaAPI {
    /// The service number in the high 16 bits of every method id.
    public static let serviceID: UInt32 = 2

    /// A batch of Raft messages from a peer (fire and forget; answered at once).
    public static let raftStep = RPCMethod<RaftStepRequest, RPCEmpty>(id: serviceID << 16 | 1, name: "raft.step")
    /// Sets a key.
    public static let put = RPCMethod<MetaPutRequest, MetaWriteResponse>(id: serviceID << 16 | 2, name: "meta.put")
    /// Reads a key (linearizable unless `serializable`).
    public static let get = RPCMethod<MetaGetRequest, MetaGetResponse>(id: serviceID << 16 | 3, name: "meta.get")
    /// Reads every key under a prefix.
    public static let range = RPCMethod<MetaRangeRequest, MetaRangeResponse>(id: serviceID << 16 | 4, name: "meta.range")
    /// Deletes a key (or every key under a prefix).
    public static let delete = RPCMethod<MetaDeleteRequest, MetaWriteResponse>(id: serviceID << 16 | 5, name: "meta.delete")
    /// Compare-and-set.
    public static let cas = RPCMethod<MetaCASRequest, MetaWriteResponse>(id: serviceID << 16 | 6, name: "meta.cas")
    /// Streams the changes under a prefix from a revision on, in order.
    public static let watch = RPCStreamMethod<MetaWatchRequest, MetaWatchResponse>(id: serviceID << 16 | 7, name: "meta.watch")
    /// The node's Raft status.
    public static let status = RPCMethod<RPCEmpty, MetaStatusResponse>(id: serviceID << 16 | 8, name: "meta.status")
    /// Grants a lease (id 0: the leader picks one).
    public static let leaseGrant = RPCMethod<MetaLeaseGrantRequest, MetaLeaseResponse>(id: serviceID << 16 | 9, name: "meta.leaseGrant")
    /// Renews a lease for a full TTL.
    public static let leaseKeepAlive = RPCMethod<MetaIDRequest, MetaLeaseResponse>(id: serviceID << 16 | 10, name: "meta.leaseKeepAlive")
    /// Ends a lease and deletes its keys.
    public static let leaseRevoke = RPCMethod<MetaIDRequest, MetaLeaseResponse>(id: serviceID << 16 | 11, name: "meta.leaseRevoke")
    /// Adds a voter or learner (or promotes a learner) with its RPC address.
    public static let addMember = RPCMethod<MetaAddMemberRequest, RPCEmpty>(id: serviceID << 16 | 12, name: "meta.addMember")
    /// Removes a member.
    public static let removeMember = RPCMethod<MetaIDRequest, RPCEmpty>(id: serviceID << 16 | 13, name: "meta.removeMember")
    /// Hands leadership to a voter.
    public static let transferLeader = RPCMethod<MetaIDRequest, RPCEmpty>(id: serviceID << 16 | 14, name: "meta.transferLeader")
    /// A key-value write a follower forwards to the leader (proposed only by a leader; never
    /// forwarded again).
    public static let forwardWrite = RPCMethod<MetaForwardWriteRequest, MetaWriteResponse>(id: serviceID << 16 | 15, name: "meta.forwardWrite")
    /// Every lease with its TTL and the time left before the leader revokes it (leader only).
    public static let leaseList = RPCMethod<RPCEmpty, MetaLeaseListResponse>(id: serviceID << 16 | 16, name: "meta.leaseList")

    /// Longest address string accepted.
    static let maxAddressBytes = 1024
    /// Most Raft messages in one `raft.step`.
    static let maxStepMessages = 1 << 16
}

/// `raft.step`: Raft messages from one peer. Wire: varint count, then each ``RaftMessage``.
public struct RaftStepRequest: RPCMessage, Equatable {
    /// The messages, in the order the peer produced them.
    public var messages: [RaftMessage]
    /// Creates a request.
    public init(messages: [RaftMessage]) { self.messages = messages }
    public init(rpcBody buffer: inout ByteBuffer) throws {
        let count = try buffer.readLength("raft message count", limit: MetaAPI.maxStepMessages)
        messages = []
        for _ in 0..<count { messages.append(try RaftMessage.decode(from: &buffer)) }
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeVarint(UInt64(messages.count))
        for message in messages { message.encode(into: &buffer) }
    }
}

/// `meta.put`. Wire: key, value, varint lease.
public struct MetaPutRequest: RPCMessage, Equatable {
    /// The key.
    public var key: String
    /// The value bytes.
    public var value: [UInt8]
    /// Owning lease (0 = none).
    public var lease: UInt64
    /// Creates a request.
    public init(key: String, value: [UInt8], lease: UInt64 = 0) {
        self.key = key
        self.value = value
        self.lease = lease
    }
    public init(rpcBody buffer: inout ByteBuffer) throws {
        key = try buffer.readLengthPrefixedString("key", limit: MetaLimits.maxKeyBytes)
        value = Array(try buffer.readLengthPrefixedSlice("value", limit: MetaLimits.maxValueBytes).readableBytesView)
        lease = try buffer.readVarint()
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeLengthPrefixed(string: key)
        buffer.writeLengthPrefixed(bytes: value)
        buffer.writeVarint(lease)
    }
}

/// `meta.delete`. Wire: key, bool prefix.
public struct MetaDeleteRequest: RPCMessage, Equatable {
    /// The key.
    public var key: String
    /// Delete every key starting with `key` instead of one key.
    public var prefix: Bool
    /// Creates a request.
    public init(key: String, prefix: Bool = false) {
        self.key = key
        self.prefix = prefix
    }
    public init(rpcBody buffer: inout ByteBuffer) throws {
        key = try buffer.readLengthPrefixedString("key", limit: MetaLimits.maxKeyBytes)
        prefix = try buffer.readBool("prefix")
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeLengthPrefixed(string: key)
        buffer.writeBool(prefix)
    }
}

/// `meta.cas`: the ``MetaCommand/compareAndSet(key:expect:value:lease:)`` command as encoded there.
public struct MetaCASRequest: RPCMessage, Equatable {
    /// The key.
    public var key: String
    /// What the key must look like for the write to happen.
    public var expect: MetaCommand.Expectation
    /// The new value, or nil to delete.
    public var value: [UInt8]?
    /// The owning lease (0 = none).
    public var lease: UInt64
    /// Creates a request.
    public init(key: String, expect: MetaCommand.Expectation, value: [UInt8]?, lease: UInt64 = 0) {
        self.key = key
        self.expect = expect
        self.value = value
        self.lease = lease
    }
    /// The command it proposes.
    public var command: MetaCommand { .compareAndSet(key: key, expect: expect, value: value, lease: lease) }
    public init(rpcBody buffer: inout ByteBuffer) throws {
        guard case .compareAndSet(let key, let expect, let value, let lease) = try MetaCommand(from: &buffer) else {
            throw WireDecodingError.invalidValue(what: "meta.cas", reason: "not a compare-and-set")
        }
        self.init(key: key, expect: expect, value: value, lease: lease)
    }
    public func encode(into buffer: inout ByteBuffer) { command.encode(into: &buffer) }
}

/// The result of a write. Wire: tag (1 written, 2 deleted, 3 compare failed, 4 lease), varint
/// revision, then for 1/3 an optional record, for 2 a varint count.
public struct MetaWriteResponse: RPCMessage, Equatable {
    /// What the write did (never `.rejected`: rejections travel as `RPCError`s).
    public var result: MetaCommandResult
    /// Creates a response.
    public init(result: MetaCommandResult) { self.result = result }
    public init(rpcBody buffer: inout ByteBuffer) throws {
        let tag = try buffer.readFixed("write result", as: UInt8.self)
        let revision = try buffer.readVarint()
        switch tag {
        case 1: result = .written(revision: revision, previous: try buffer.readOptionalKeyValue())
        case 2: result = .deleted(revision: revision, count: try buffer.readLength("count", limit: Int(Int32.max)))
        case 3: result = .compareFailed(revision: revision, current: try buffer.readOptionalKeyValue())
        case 4: result = .lease(revision: revision)
        default: throw WireDecodingError.unknownTag(what: "write result", tag: UInt64(tag))
        }
    }
    public func encode(into buffer: inout ByteBuffer) {
        switch result {
        case .written(let revision, let previous):
            buffer.writeInteger(UInt8(1)); buffer.writeVarint(revision); buffer.writeOptional(previous)
        case .deleted(let revision, let count):
            buffer.writeInteger(UInt8(2)); buffer.writeVarint(revision); buffer.writeVarint(UInt64(count))
        case .compareFailed(let revision, let current):
            buffer.writeInteger(UInt8(3)); buffer.writeVarint(revision); buffer.writeOptional(current)
        case .lease(let revision):
            buffer.writeInteger(UInt8(4)); buffer.writeVarint(revision)
        case .rejected:
            // Servers send rejections as RPCErrors; never encoded (kept total for safety).
            buffer.writeInteger(UInt8(4)); buffer.writeVarint(0)
        }
    }
}

/// `meta.get`. Wire: key, bool serializable.
public struct MetaGetRequest: RPCMessage, Equatable {
    /// The key.
    public var key: String
    /// Answer from this node's state without a ReadIndex round (may be stale).
    public var serializable: Bool
    /// Creates a request.
    public init(key: String, serializable: Bool = false) {
        self.key = key
        self.serializable = serializable
    }
    public init(rpcBody buffer: inout ByteBuffer) throws {
        key = try buffer.readLengthPrefixedString("key", limit: MetaLimits.maxKeyBytes)
        serializable = try buffer.readBool("serializable")
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeLengthPrefixed(string: key)
        buffer.writeBool(serializable)
    }
}

/// The answer to `meta.get`. Wire: varint store revision, optional record.
public struct MetaGetResponse: RPCMessage, Equatable {
    /// The store's revision when the read was served.
    public var revision: UInt64
    /// The record, if the key exists.
    public var keyValue: MetaKeyValue?
    /// Creates a response.
    public init(revision: UInt64, keyValue: MetaKeyValue?) {
        self.revision = revision
        self.keyValue = keyValue
    }
    public init(rpcBody buffer: inout ByteBuffer) throws {
        revision = try buffer.readVarint()
        keyValue = try buffer.readOptionalKeyValue()
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeVarint(revision)
        buffer.writeOptional(keyValue)
    }
}

/// `meta.range`. Wire: prefix, varint limit (0 = no limit), bool serializable.
public struct MetaRangeRequest: RPCMessage, Equatable {
    /// The key prefix (empty: every key).
    public var prefix: String
    /// Most records returned (0 = all).
    public var limit: UInt64
    /// See ``MetaGetRequest/serializable``.
    public var serializable: Bool
    /// Creates a request.
    public init(prefix: String, limit: UInt64 = 0, serializable: Bool = false) {
        self.prefix = prefix
        self.limit = limit
        self.serializable = serializable
    }
    public init(rpcBody buffer: inout ByteBuffer) throws {
        prefix = try buffer.readLengthPrefixedString("prefix", limit: MetaLimits.maxKeyBytes)
        limit = try buffer.readVarint()
        serializable = try buffer.readBool("serializable")
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeLengthPrefixed(string: prefix)
        buffer.writeVarint(limit)
        buffer.writeBool(serializable)
    }
}

/// The answer to `meta.range`. Wire: varint revision, varint count, records.
public struct MetaRangeResponse: RPCMessage, Equatable {
    /// The store's revision when the request was served.
    public var revision: UInt64
    /// Matching records sorted by key.
    public var keyValues: [MetaKeyValue]
    /// Creates a response.
    public init(revision: UInt64, keyValues: [MetaKeyValue]) {
        self.revision = revision
        self.keyValues = keyValues
    }
    public init(rpcBody buffer: inout ByteBuffer) throws {
        revision = try buffer.readVarint()
        let count = try buffer.readLength("record count", limit: buffer.readableBytes)
        keyValues = []
        for _ in 0..<count { keyValues.append(try MetaKeyValue(from: &buffer)) }
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeVarint(revision)
        buffer.writeVarint(UInt64(keyValues.count))
        for record in keyValues { record.encode(into: &buffer) }
    }
}

/// `meta.watch`. Wire: prefix, varint from-revision (0 = only future changes).
public struct MetaWatchRequest: RPCMessage, Equatable {
    /// The key prefix (empty: every key).
    public var prefix: String
    /// First revision to deliver; 0 means "changes after the current revision".
    public var fromRevision: UInt64
    /// Creates a request.
    public init(prefix: String, fromRevision: UInt64 = 0) {
        self.prefix = prefix
        self.fromRevision = fromRevision
    }
    public init(rpcBody buffer: inout ByteBuffer) throws {
        prefix = try buffer.readLengthPrefixedString("prefix", limit: MetaLimits.maxKeyBytes)
        fromRevision = try buffer.readVarint()
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeLengthPrefixed(string: prefix)
        buffer.writeVarint(fromRevision)
    }
}

/// One item of a watch stream: a batch of consecutive events in revision order.
/// Wire: varint count, events.
public struct MetaWatchResponse: RPCMessage, Equatable {
    /// Consecutive change events in revision order (whole revisions).
    public var events: [WatchEvent]
    /// Creates an item.
    public init(events: [WatchEvent]) { self.events = events }
    public init(rpcBody buffer: inout ByteBuffer) throws {
        let count = try buffer.readLength("event count", limit: buffer.readableBytes)
        events = []
        for _ in 0..<count { events.append(try WatchEvent(from: &buffer)) }
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeVarint(UInt64(events.count))
        for event in events { event.encode(into: &buffer) }
    }
}

/// One member as `meta.status` reports it.
public struct MetaMemberStatus: Equatable, Sendable {
    /// The id.
    public var id: RaftNodeID
    /// Whether it votes (false: learner).
    public var voter: Bool
    /// Its RPC address, if known.
    public var address: String
    /// The leader's match index for it (only meaningful when answered by the leader).
    public var match: UInt64
    /// Creates a member status.
    public init(id: RaftNodeID, voter: Bool, address: String, match: UInt64) {
        self.id = id
        self.voter = voter
        self.address = address
        self.match = match
    }
}

/// The answer to `meta.status`. Wire: varints id, role (0 follower, 1 pre-candidate,
/// 2 candidate, 3 leader), term, leader, commit, applied, revision; leader address; varint
/// member count, then per member: varint id, bool voter, address, varint match.
public struct MetaStatusResponse: RPCMessage, Equatable {
    /// The id.
    public var id: RaftNodeID
    /// The Raft role.
    public var role: RaftRole
    /// The current term.
    public var term: UInt64
    /// The known leader (0: none).
    public var leader: RaftNodeID
    /// The leader's address (empty when unknown).
    public var leaderAddress: String
    /// The commit index.
    public var commit: UInt64
    /// The applied index.
    public var applied: UInt64
    /// The state machine's revision.
    public var revision: UInt64
    /// The members of the current configuration.
    public var members: [MetaMemberStatus]
    /// Creates a status.
    public init(id: RaftNodeID, role: RaftRole, term: UInt64, leader: RaftNodeID, leaderAddress: String,
                commit: UInt64, applied: UInt64, revision: UInt64, members: [MetaMemberStatus]) {
        self.id = id
        self.role = role
        self.term = term
        self.leader = leader
        self.leaderAddress = leaderAddress
        self.commit = commit
        self.applied = applied
        self.revision = revision
        self.members = members
    }
    private static let roles: [RaftRole] = [.follower, .preCandidate, .candidate, .leader]
    public init(rpcBody buffer: inout ByteBuffer) throws {
        id = try buffer.readVarint()
        let rawRole = try buffer.readVarint()
        guard rawRole < 4 else { throw WireDecodingError.unknownTag(what: "raft role", tag: rawRole) }
        role = Self.roles[Int(rawRole)]
        term = try buffer.readVarint()
        leader = try buffer.readVarint()
        leaderAddress = try buffer.readLengthPrefixedString("leader address", limit: MetaAPI.maxAddressBytes)
        commit = try buffer.readVarint()
        applied = try buffer.readVarint()
        revision = try buffer.readVarint()
        let count = try buffer.readLength("member count", limit: 1024)
        members = []
        for _ in 0..<count {
            members.append(MetaMemberStatus(
                id: try buffer.readVarint(),
                voter: try buffer.readBool("voter"),
                address: try buffer.readLengthPrefixedString("address", limit: MetaAPI.maxAddressBytes),
                match: try buffer.readVarint()
            ))
        }
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeVarint(id)
        buffer.writeVarint(UInt64(Self.roles.firstIndex(of: role) ?? 0))
        buffer.writeVarint(term)
        buffer.writeVarint(leader)
        buffer.writeLengthPrefixed(string: leaderAddress)
        buffer.writeVarint(commit)
        buffer.writeVarint(applied)
        buffer.writeVarint(revision)
        buffer.writeVarint(UInt64(members.count))
        for member in members {
            buffer.writeVarint(member.id)
            buffer.writeBool(member.voter)
            buffer.writeLengthPrefixed(string: member.address)
            buffer.writeVarint(member.match)
        }
    }
}

/// `meta.leaseGrant`. Wire: varint id (0 = leader picks), varint TTL in milliseconds.
public struct MetaLeaseGrantRequest: RPCMessage, Equatable {
    /// The id.
    public var id: UInt64
    /// Time to live in milliseconds.
    public var ttlMillis: UInt64
    /// Creates a request.
    public init(id: UInt64 = 0, ttlMillis: UInt64) {
        self.id = id
        self.ttlMillis = ttlMillis
    }
    public init(rpcBody buffer: inout ByteBuffer) throws {
        id = try buffer.readVarint()
        ttlMillis = try buffer.readVarint()
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeVarint(id)
        buffer.writeVarint(ttlMillis)
    }
}

/// The answer to the lease calls. Wire: varints id, TTL, revision.
public struct MetaLeaseResponse: RPCMessage, Equatable {
    /// The id.
    public var id: UInt64
    /// Time to live in milliseconds.
    public var ttlMillis: UInt64
    /// The revision of the grant/revoke (the current revision for keep-alives).
    public var revision: UInt64
    /// Creates a response.
    public init(id: UInt64, ttlMillis: UInt64, revision: UInt64) {
        self.id = id
        self.ttlMillis = ttlMillis
        self.revision = revision
    }
    public init(rpcBody buffer: inout ByteBuffer) throws {
        id = try buffer.readVarint()
        ttlMillis = try buffer.readVarint()
        revision = try buffer.readVarint()
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeVarint(id)
        buffer.writeVarint(ttlMillis)
        buffer.writeVarint(revision)
    }
}

/// A request naming one lease or node. Wire: varint id.
public struct MetaIDRequest: RPCMessage, Equatable {
    /// The id.
    public var id: UInt64
    /// Creates a request.
    public init(id: UInt64) { self.id = id }
    public init(rpcBody buffer: inout ByteBuffer) throws { id = try buffer.readVarint() }
    public func encode(into buffer: inout ByteBuffer) { buffer.writeVarint(id) }
}

/// `meta.addMember`. Wire: varint id, address, bool learner.
public struct MetaAddMemberRequest: RPCMessage, Equatable {
    /// The id.
    public var id: RaftNodeID
    /// The member's RPC address `host:port`.
    public var address: String
    /// Add as a learner (a later add without it promotes the learner).
    public var learner: Bool
    /// Creates a request.
    public init(id: RaftNodeID, address: String, learner: Bool) {
        self.id = id
        self.address = address
        self.learner = learner
    }
    public init(rpcBody buffer: inout ByteBuffer) throws {
        id = try buffer.readVarint()
        address = try buffer.readLengthPrefixedString("address", limit: MetaAPI.maxAddressBytes)
        learner = try buffer.readBool("learner")
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeVarint(id)
        buffer.writeLengthPrefixed(string: address)
        buffer.writeBool(learner)
    }
}

extension ByteBuffer {
    mutating func writeOptional(_ record: MetaKeyValue?) {
        writeBool(record != nil)
        record?.encode(into: &self)
    }

    mutating func readOptionalKeyValue() throws(WireDecodingError) -> MetaKeyValue? {
        try readBool("has record") ? try MetaKeyValue(from: &self) : nil
    }
}
