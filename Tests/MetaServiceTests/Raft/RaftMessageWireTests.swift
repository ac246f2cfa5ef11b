import MetaService
import NIOCore
import PropertyBased
import Shared
import Testing

@Suite("Raft message encoding")
struct RaftMessageWireTests {
    static let snapshot = RaftSnapshot(
        index: 42, term: 7,
        configuration: RaftConfiguration(voters: [1, 2, 3], learners: [9]),
        data: Array("state".utf8)
    )

    static let bodies: [RaftMessageBody] = [
        .appendEntries(prevIndex: 10, prevTerm: 3, entries: [
            RaftEntry(term: 3, index: 11, kind: .normal, data: [1, 2, 3]),
            RaftEntry(term: 4, index: 12, kind: .noop),
            RaftEntry(term: 4, index: 13, kind: .confChange, data: RaftConfiguration(voters: [1, 2]).encodedBytes()),
        ], commit: 9),
        .appendEntries(prevIndex: 0, prevTerm: 0, entries: [], commit: 0),
        .appendResponse(index: 99, reject: true, rejectHint: 50, hintTerm: 2),
        .appendResponse(index: 99, reject: false, rejectHint: 0, hintTerm: 0),
        .requestVote(lastIndex: 1 << 40, lastTerm: 12, preVote: true, transfer: false),
        .requestVote(lastIndex: 3, lastTerm: 1, preVote: false, transfer: true),
        .voteResponse(granted: true, preVote: false),
        .voteResponse(granted: false, preVote: true),
        .heartbeat(commit: 77, readSequence: 5),
        .heartbeatResponse(readSequence: 5),
        .installSnapshot(snapshot),
        .timeoutNow,
        .readIndex(context: [0xDE, 0xAD]),
        .readIndexResponse(context: [], index: 1234),
    ]

    static func encode(_ message: RaftMessage) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        message.encode(into: &buffer)
        return buffer
    }

    @Test("every message kind round-trips", arguments: bodies)
    func roundTrip(body: RaftMessageBody) throws {
        let message = RaftMessage(from: 1, to: 300, term: UInt64.max, body: body)
        var buffer = Self.encode(message)
        let decoded = try RaftMessage.decode(from: &buffer)
        #expect(decoded == message)
        #expect(buffer.readableBytes == 0)
    }

    @Test("every strict prefix of an encoding is reported as truncated", arguments: bodies)
    func truncated(body: RaftMessageBody) {
        let full = Self.encode(RaftMessage(from: 2, to: 3, term: 4, body: body))
        for length in 0..<full.readableBytes {
            var prefix = full.getSlice(at: full.readerIndex, length: length) ?? ByteBuffer()
            #expect(throws: WireDecodingError.self) { try RaftMessage.decode(from: &prefix) }
        }
    }

    @Test("an unknown message tag is rejected")
    func unknownMessageTag() {
        var buffer = ByteBufferAllocator().buffer(capacity: 8)
        buffer.writeVarint(1)
        buffer.writeVarint(2)
        buffer.writeVarint(3)
        buffer.writeInteger(UInt8(200))
        #expect(throws: WireDecodingError.unknownTag(what: "raft message", tag: 200)) {
            try RaftMessage.decode(from: &buffer)
        }
    }

    @Test("an unknown entry kind is rejected")
    func unknownEntryKind() {
        var buffer = ByteBufferAllocator().buffer(capacity: 8)
        buffer.writeVarint(1)
        buffer.writeVarint(1)
        buffer.writeInteger(UInt8(9))
        buffer.writeVarint(0)
        #expect(throws: WireDecodingError.unknownTag(what: "raft entry kind", tag: 9)) {
            try RaftEntry.decode(from: &buffer)
        }
    }

    @Test("declared counts and lengths are checked against limits before reading")
    func limits() {
        var buffer = ByteBufferAllocator().buffer(capacity: 16)
        for value in [1, 2, 3] { buffer.writeVarint(UInt64(value)) }
        buffer.writeInteger(UInt8(1))  // appendEntries
        for value in [0, 0, 0] { buffer.writeVarint(UInt64(value)) }
        buffer.writeVarint(1 << 40)  // entry count
        #expect(throws: WireDecodingError.self) { try RaftMessage.decode(from: &buffer) }

        var context = ByteBufferAllocator().buffer(capacity: 16)
        for value in [1, 2, 3] { context.writeVarint(UInt64(value)) }
        context.writeInteger(UInt8(9))  // readIndex
        context.writeVarint(1000)
        context.writeBytes([UInt8](repeating: 0, count: 1000))
        let limits = RaftWireLimits(maxFieldBytes: 100)
        #expect(throws: WireDecodingError.lengthExceedsLimit(what: "read context", length: 1000, limit: 100)) {
            try RaftMessage.decode(from: &context, limits: limits)
        }
    }

    @Test("configurations reject node 0, overlapping sets and trailing bytes")
    func malformedConfiguration() {
        #expect(throws: WireDecodingError.self) { try RaftConfiguration.decode(bytes: [1, 0, 0]) }
        #expect(throws: WireDecodingError.self) { try RaftConfiguration.decode(bytes: [1, 5, 1, 5]) }
        #expect(throws: WireDecodingError.self) { try RaftConfiguration.decode(bytes: [1, 5, 0, 0]) }
        #expect((try? RaftConfiguration.decode(bytes: [1, 5, 1, 6])) == RaftConfiguration(voters: [5], learners: [6]))
    }

    @Test("random append messages round-trip")
    func randomAppends() async {
        await propertyCheck(input: Gen.int(in: 0...20), Gen.int(in: 0...Int(Int32.max))) { count, salt in
            let entries = (0..<count).map { k in
                RaftEntry(
                    term: UInt64(salt % 7 + k / 3), index: UInt64(salt + k + 1),
                    kind: [RaftEntry.Kind.normal, .noop, .confChange][(salt + k) % 3],
                    data: Array(repeating: UInt8(truncatingIfNeeded: salt + k), count: (salt + k) % 17)
                )
            }
            let message = RaftMessage(
                from: UInt64(salt), to: UInt64(count), term: UInt64(salt) << 20,
                body: .appendEntries(prevIndex: UInt64(salt), prevTerm: UInt64(salt % 5), entries: entries, commit: UInt64(salt / 2))
            )
            var buffer = Self.encode(message)
            #expect((try? RaftMessage.decode(from: &buffer)) == message)
        }
    }
}
