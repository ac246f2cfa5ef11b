import NIOCore
import Shared

/// Limits applied while decoding Raft messages from untrusted bytes.
public struct RaftWireLimits: Sendable, Equatable {
    /// Most entries in one AppendEntries message.
    public var maxEntries: Int
    /// Most bytes of one entry's payload, a snapshot's data or a read context.
    public var maxFieldBytes: Int
    /// Most members in a configuration.
    public var maxMembers: Int

    /// Creates limits.
    public init(maxEntries: Int = 1 << 16, maxFieldBytes: Int = ByteBuffer.defaultFieldLimit, maxMembers: Int = 1024) {
        self.maxEntries = maxEntries
        self.maxFieldBytes = maxFieldBytes
        self.maxMembers = maxMembers
    }
}

extension RaftMessage {
    /// The message kind tags on the wire.
    enum Tag: UInt8 {
        case appendEntries = 1, appendResponse, requestVote, voteResponse, heartbeat
        case heartbeatResponse, installSnapshot, timeoutNow, readIndex, readIndexResponse
    }

    /// Appends the binary encoding: varint from, to, term; a one-byte kind tag; the body fields.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeVarint(from)
        buffer.writeVarint(to)
        buffer.writeVarint(term)
        switch body {
        case .appendEntries(let prevIndex, let prevTerm, let entries, let commit):
            buffer.writeInteger(Tag.appendEntries.rawValue)
            buffer.writeVarint(prevIndex)
            buffer.writeVarint(prevTerm)
            buffer.writeVarint(commit)
            buffer.writeVarint(UInt64(entries.count))
            for entry in entries { entry.encode(into: &buffer) }
        case .appendResponse(let index, let reject, let rejectHint, let hintTerm):
            buffer.writeInteger(Tag.appendResponse.rawValue)
            buffer.writeVarint(index)
            buffer.writeBool(reject)
            buffer.writeVarint(rejectHint)
            buffer.writeVarint(hintTerm)
        case .requestVote(let lastIndex, let lastTerm, let preVote, let transfer):
            buffer.writeInteger(Tag.requestVote.rawValue)
            buffer.writeVarint(lastIndex)
            buffer.writeVarint(lastTerm)
            buffer.writeBool(preVote)
            buffer.writeBool(transfer)
        case .voteResponse(let granted, let preVote):
            buffer.writeInteger(Tag.voteResponse.rawValue)
            buffer.writeBool(granted)
            buffer.writeBool(preVote)
        case .heartbeat(let commit, let readSequence):
            buffer.writeInteger(Tag.heartbeat.rawValue)
            buffer.writeVarint(commit)
            buffer.writeVarint(readSequence)
        case .heartbeatResponse(let readSequence):
            buffer.writeInteger(Tag.heartbeatResponse.rawValue)
            buffer.writeVarint(readSequence)
        case .installSnapshot(let snapshot):
            buffer.writeInteger(Tag.installSnapshot.rawValue)
            snapshot.encode(into: &buffer)
        case .timeoutNow:
            buffer.writeInteger(Tag.timeoutNow.rawValue)
        case .readIndex(let context):
            buffer.writeInteger(Tag.readIndex.rawValue)
            buffer.writeLengthPrefixed(bytes: context)
        case .readIndexResponse(let context, let index):
            buffer.writeInteger(Tag.readIndexResponse.rawValue)
            buffer.writeLengthPrefixed(bytes: context)
            buffer.writeVarint(index)
        }
    }

    /// Decodes one message written by ``encode(into:)``, consuming its bytes.
    public static func decode(
        from buffer: inout ByteBuffer,
        limits: RaftWireLimits = RaftWireLimits()
    ) throws(WireDecodingError) -> RaftMessage {
        let from = try buffer.readVarint()
        let to = try buffer.readVarint()
        let term = try buffer.readVarint()
        let rawTag = try buffer.readFixed("raft message tag", as: UInt8.self)
        guard let tag = Tag(rawValue: rawTag) else {
            throw .unknownTag(what: "raft message", tag: UInt64(rawTag))
        }
        let body: RaftMessageBody
        switch tag {
        case .appendEntries:
            let prevIndex = try buffer.readVarint()
            let prevTerm = try buffer.readVarint()
            let commit = try buffer.readVarint()
            let count = try buffer.readLength("raft entries", limit: limits.maxEntries)
            var entries: [RaftEntry] = []
            entries.reserveCapacity(min(count, buffer.readableBytes / 4))
            for _ in 0..<count {
                entries.append(try RaftEntry.decode(from: &buffer, limits: limits))
            }
            body = .appendEntries(prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: commit)
        case .appendResponse:
            let index = try buffer.readVarint()
            let reject = try buffer.readBool("reject")
            let hint = try buffer.readVarint()
            let hintTerm = try buffer.readVarint()
            body = .appendResponse(index: index, reject: reject, rejectHint: hint, hintTerm: hintTerm)
        case .requestVote:
            let lastIndex = try buffer.readVarint()
            let lastTerm = try buffer.readVarint()
            let preVote = try buffer.readBool("preVote")
            let transfer = try buffer.readBool("transfer")
            body = .requestVote(lastIndex: lastIndex, lastTerm: lastTerm, preVote: preVote, transfer: transfer)
        case .voteResponse:
            let granted = try buffer.readBool("granted")
            let preVote = try buffer.readBool("preVote")
            body = .voteResponse(granted: granted, preVote: preVote)
        case .heartbeat:
            let commit = try buffer.readVarint()
            let sequence = try buffer.readVarint()
            body = .heartbeat(commit: commit, readSequence: sequence)
        case .heartbeatResponse:
            body = .heartbeatResponse(readSequence: try buffer.readVarint())
        case .installSnapshot:
            body = .installSnapshot(try RaftSnapshot.decode(from: &buffer, limits: limits))
        case .timeoutNow:
            body = .timeoutNow
        case .readIndex:
            let context = try buffer.readLengthPrefixedSlice("read context", limit: limits.maxFieldBytes)
            body = .readIndex(context: Array(context.readableBytesView))
        case .readIndexResponse:
            let context = try buffer.readLengthPrefixedSlice("read context", limit: limits.maxFieldBytes)
            let index = try buffer.readVarint()
            body = .readIndexResponse(context: Array(context.readableBytesView), index: index)
        }
        return RaftMessage(from: from, to: to, term: term, body: body)
    }
}

extension RaftEntry {
    /// Appends the binary encoding: varint term, varint index, kind byte, length-prefixed data.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeVarint(term)
        buffer.writeVarint(index)
        buffer.writeInteger(kind.rawValue)
        buffer.writeLengthPrefixed(bytes: data)
    }

    /// Decodes an entry written by ``encode(into:)``.
    public static func decode(
        from buffer: inout ByteBuffer,
        limits: RaftWireLimits = RaftWireLimits()
    ) throws(WireDecodingError) -> RaftEntry {
        let term = try buffer.readVarint()
        let index = try buffer.readVarint()
        let rawKind = try buffer.readFixed("raft entry kind", as: UInt8.self)
        guard let kind = Kind(rawValue: rawKind) else {
            throw .unknownTag(what: "raft entry kind", tag: UInt64(rawKind))
        }
        let data = try buffer.readLengthPrefixedSlice("raft entry data", limit: limits.maxFieldBytes)
        return RaftEntry(term: term, index: index, kind: kind, data: Array(data.readableBytesView))
    }
}

extension RaftSnapshot {
    /// Appends the binary encoding: varint index and term, the configuration, length-prefixed data.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeVarint(index)
        buffer.writeVarint(term)
        configuration.encode(into: &buffer)
        buffer.writeLengthPrefixed(bytes: data)
    }

    /// Decodes a snapshot written by ``encode(into:)``.
    public static func decode(
        from buffer: inout ByteBuffer,
        limits: RaftWireLimits = RaftWireLimits()
    ) throws(WireDecodingError) -> RaftSnapshot {
        let index = try buffer.readVarint()
        let term = try buffer.readVarint()
        let configuration = try RaftConfiguration.decode(from: &buffer, limits: limits)
        let data = try buffer.readLengthPrefixedSlice("snapshot data", limit: limits.maxFieldBytes)
        return RaftSnapshot(index: index, term: term, configuration: configuration, data: Array(data.readableBytesView))
    }
}

extension RaftConfiguration {
    /// Appends the binary encoding: voters then learners, each a varint count of sorted varint IDs.
    public func encode(into buffer: inout ByteBuffer) {
        for set in [voters, learners] {
            buffer.writeVarint(UInt64(set.count))
            for id in set.sorted() { buffer.writeVarint(id) }
        }
    }

    /// The encoding as bytes (the payload of a `confChange` entry).
    public func encodedBytes() -> [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: 16)
        encode(into: &buffer)
        return Array(buffer.readableBytesView)
    }

    /// Decodes a configuration written by ``encode(into:)``; IDs must be non-zero and a node
    /// may not be both voter and learner.
    public static func decode(
        from buffer: inout ByteBuffer,
        limits: RaftWireLimits = RaftWireLimits()
    ) throws(WireDecodingError) -> RaftConfiguration {
        var sets: [Set<RaftNodeID>] = []
        for what in ["voters", "learners"] {
            let count = try buffer.readLength(what, limit: limits.maxMembers)
            var set = Set<RaftNodeID>()
            for _ in 0..<count {
                let id = try buffer.readVarint()
                guard id != 0 else { throw .invalidValue(what: what, reason: "node id 0") }
                set.insert(id)
            }
            sets.append(set)
        }
        guard sets[0].isDisjoint(with: sets[1]) else {
            throw .invalidValue(what: "configuration", reason: "a node is both voter and learner")
        }
        return RaftConfiguration(voters: sets[0], learners: sets[1])
    }

    /// Decodes the payload of a `confChange` entry; the whole payload must be consumed.
    public static func decode(bytes: [UInt8]) throws(WireDecodingError) -> RaftConfiguration {
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        let configuration = try decode(from: &buffer)
        guard buffer.readableBytes == 0 else {
            throw .invalidValue(what: "configuration", reason: "\(buffer.readableBytes) trailing bytes")
        }
        return configuration
    }
}
