import NIOCore
import PropertyBased
import Shared
import Testing

@testable import MetaService

/// The meta protocol's messages survive the wire and refuse malformed bodies with errors.
@Suite("MetaAPI wire forms")
struct MetaAPIWireTests {
    func roundTrip<M: RPCMessage & Equatable>(_ message: M) throws -> M {
        var buffer = ByteBuffer()
        message.encode(into: &buffer)
        let decoded = try M(rpcBody: &buffer)
        #expect(buffer.readableBytes == 0)
        return decoded
    }

    let record = MetaKeyValue(key: "nodes/3", value: [1, 2, 3], createRevision: 4, modRevision: 9, version: 2, lease: 77)

    @Test func everyMessageRoundTrips() throws {
        let step = RaftStepRequest(messages: [
            RaftMessage(from: 1, to: 2, term: 3, body: .heartbeat(commit: 5, readSequence: 1)),
            RaftMessage(from: 1, to: 2, term: 3, body: .appendEntries(prevIndex: 4, prevTerm: 3, entries: [RaftEntry(term: 3, index: 5, data: [9])], commit: 4)),
        ])
        #expect(try roundTrip(step) == step)
        #expect(try roundTrip(MetaPutRequest(key: "a", value: [0, 255], lease: 3)) == MetaPutRequest(key: "a", value: [0, 255], lease: 3))
        #expect(try roundTrip(MetaDeleteRequest(key: "p/", prefix: true)) == MetaDeleteRequest(key: "p/", prefix: true))
        for expect in [MetaCommand.Expectation.absent, .modRevision(7), .value([1])] {
            let cas = MetaCASRequest(key: "k", expect: expect, value: nil, lease: 0)
            #expect(try roundTrip(cas) == cas)
        }
        for result in [MetaCommandResult.written(revision: 3, previous: record), .written(revision: 1, previous: nil),
                       .deleted(revision: 4, count: 2), .compareFailed(revision: 5, current: record), .lease(revision: 6)] {
            #expect(try roundTrip(MetaWriteResponse(result: result)).result == result)
        }
        #expect(try roundTrip(MetaGetResponse(revision: 9, keyValue: record)) == MetaGetResponse(revision: 9, keyValue: record))
        #expect(try roundTrip(MetaRangeResponse(revision: 9, keyValues: [record, record])).keyValues.count == 2)
        let event = WatchEvent(kind: .delete, keyValue: record, previous: record)
        #expect(try roundTrip(MetaWatchResponse(events: [event])) == MetaWatchResponse(events: [event]))
        let status = MetaStatusResponse(id: 2, role: .leader, term: 4, leader: 2, leaderAddress: "h:1", commit: 10, applied: 9,
                                        revision: 8, members: [MetaMemberStatus(id: 1, voter: false, address: "h:2", match: 7)])
        #expect(try roundTrip(status) == status)
        #expect(try roundTrip(MetaAddMemberRequest(id: 4, address: "h:4", learner: true)) == MetaAddMemberRequest(id: 4, address: "h:4", learner: true))
        #expect(try roundTrip(MetaLeaseResponse(id: 1, ttlMillis: 2, revision: 3)) == MetaLeaseResponse(id: 1, ttlMillis: 2, revision: 3))
    }

    @Test func truncatedOrGarbageBodiesThrow() async {
        var full = ByteBuffer()
        MetaStatusResponse(id: 2, role: .follower, term: 4, leader: 1, leaderAddress: "h:1", commit: 10, applied: 9, revision: 8,
                           members: [MetaMemberStatus(id: 1, voter: true, address: "h:2", match: 7)]).encode(into: &full)
        let bytes = Array(full.readableBytesView)
        await propertyCheck(input: Gen.int(in: 0...(bytes.count - 1))) { cut in
            var truncated = ByteBuffer(bytes: bytes[0..<cut])
            #expect(throws: (any Error).self) { _ = try MetaStatusResponse(rpcBody: &truncated) }
        }
        var badTag = ByteBuffer(bytes: [9, 1])
        #expect(throws: (any Error).self) { _ = try MetaWriteResponse(rpcBody: &badTag) }
        var hugeCount = ByteBuffer()
        hugeCount.writeVarint(UInt64.max)
        #expect(throws: (any Error).self) { _ = try RaftStepRequest(rpcBody: &hugeCount) }
    }
}
