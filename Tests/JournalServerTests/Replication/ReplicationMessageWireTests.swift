import NIOCore
import PropertyBased
import Shared
import Testing

@testable import JournalServer

/// Round trips and malformed input for the replication messages' binary encoding.
@Suite struct ReplicationMessageWireTests {
    typealias S = ReplicationTestSupport

    static func encode(_ message: ReplicationMessage) -> ByteBuffer {
        var buffer = ByteBuffer()
        message.encode(into: &buffer)
        return buffer
    }

    static func decode(_ buffer: ByteBuffer, limits: ReplicationWireLimits = ReplicationWireLimits()) throws(WireDecodingError) -> ReplicationMessage {
        var copy = buffer
        let message = try ReplicationMessage.decode(from: &copy, limits: limits)
        #expect(copy.readableBytes == 0)
        return message
    }

    static func samples() throws -> [ReplicationMessage] {
        let batches = [try S.batch("x", 3, base: 10), try S.batch("y", 1, base: 13)]
        return [
            .push(S.push(batches, epoch: 7, epochStart: 4, highWatermark: 12)),
            .push(S.push([], epoch: 0, highWatermark: 0)),
            .ack(ReplicaAck(segmentID: .max, epoch: .max, replicaID: 3, durableEnd: .max)),
            .reject(ReplicaReject(segmentID: 1, epoch: 2, replicaID: 3, reason: .staleEpoch)),
            .reject(ReplicaReject(segmentID: 1, epoch: 2, replicaID: 3, reason: .notContiguous(end: 1 << 40))),
            .sealRequest(SegmentSealRequest(segmentID: 5, newEpoch: 9)),
            .sealResponse(SegmentSealResponse(segmentID: 5, replicaID: 2, epoch: 9, durableEnd: 77)),
        ]
    }

    @Test func everyMessageKindRoundTrips() throws {
        for message in try Self.samples() {
            #expect(try Self.decode(Self.encode(message)) == message)
            var body = Self.encode(message)
            #expect(try ReplicationMessage(rpcBody: &body) == message)
        }
    }

    @Test func pushRoundTripsForRandomRecords() async {
        let values = Gen.uint8().array(of: 0...40)
        await propertyCheck(input: values.array(of: 1...6).array(of: 0...5), Gen.int64(in: 0...(1 << 40))) { groups, base in
            var offset = base
            var batches: [ReplicatedBatch] = []
            for group in groups {
                let records = group.enumerated().map { Record(timestamp: Int64($0.offset), value: ByteBuffer(bytes: $0.element)) }
                guard let batch = try? ReplicatedBatch(records: records, baseOffset: offset, epoch: 3) else {
                    Issue.record("encoding failed")
                    return
                }
                batches.append(batch)
                offset = batch.endOffset
            }
            let message = ReplicationMessage.push(S.push(batches, epoch: 3, epochStart: base, highWatermark: base))
            #expect((try? Self.decode(Self.encode(message))) == message)
            if let decoded = try? Self.decode(Self.encode(message)), case .push(let push) = decoded {
                #expect((try? push.batches.map { try $0.records().map(\.value) }) == groups.map { $0.map { ByteBuffer(bytes: $0) } })
            }
        }
    }

    @Test func everyTruncationIsATypedError() throws {
        for message in try Self.samples() {
            let full = Self.encode(message)
            for length in 0..<full.readableBytes {
                let prefix = full.getSlice(at: full.readerIndex, length: length) ?? ByteBuffer()
                #expect(throws: WireDecodingError.self) { try Self.decode(prefix) }
            }
        }
    }

    @Test func unknownTagsAreRejected() {
        #expect(throws: WireDecodingError.unknownTag(what: "replication message", tag: 9)) {
            try Self.decode(ByteBuffer(bytes: [9, 0, 0]))
        }
        // reject with reason tag 7
        #expect(throws: WireDecodingError.unknownTag(what: "reject reason", tag: 7)) {
            try Self.decode(ByteBuffer(bytes: [3, 1, 2, 3, 7]))
        }
    }

    @Test func negativeAndOversizedNumbersAreRejected() {
        var negativeEpoch = ByteBuffer()
        negativeEpoch.writeInteger(UInt8(2))
        negativeEpoch.writeVarint(1)
        negativeEpoch.writeSignedVarint(-1)
        negativeEpoch.writeVarint(1)
        negativeEpoch.writeSignedVarint(0)
        #expect(throws: WireDecodingError.self) { try Self.decode(negativeEpoch) }

        var hugeEpoch = ByteBuffer()
        hugeEpoch.writeInteger(UInt8(4))
        hugeEpoch.writeVarint(1)
        hugeEpoch.writeSignedVarint(Int64(Int32.max) + 1)
        #expect(throws: WireDecodingError.self) { try Self.decode(hugeEpoch) }

        let negativeOffset = ReplicationMessage.ack(ReplicaAck(segmentID: 1, epoch: 1, replicaID: 1, durableEnd: -5))
        #expect(throws: WireDecodingError.invalidValue(what: "durable end", reason: "negative offset -5")) {
            try Self.decode(Self.encode(negativeOffset))
        }
    }

    @Test func limitsAreCheckedBeforeBuffering() throws {
        let batches = [try S.batch("x", 3, base: 0), try S.batch("y", 1, base: 3)]
        let push = Self.encode(.push(S.push(batches)))
        #expect(throws: WireDecodingError.lengthExceedsLimit(what: "push batches", length: 2, limit: 1)) {
            try Self.decode(push, limits: ReplicationWireLimits(maxBatchesPerPush: 1))
        }
        #expect(throws: WireDecodingError.self) {
            try Self.decode(push, limits: ReplicationWireLimits(maxBatchBytes: batches[0].sizeInBytes - 1))
        }
        #expect(throws: WireDecodingError.lengthExceedsLimit(what: "push", length: batches[0].sizeInBytes + batches[1].sizeInBytes, limit: 100)) {
            try Self.decode(push, limits: ReplicationWireLimits(maxPushBytes: 100))
        }
        // A declared count far beyond the bytes present fails as truncation, without reserving it.
        var lying = ByteBuffer()
        lying.writeInteger(UInt8(1))
        lying.writeVarint(1)
        lying.writeSignedVarint(1)
        lying.writeVarint(1)
        lying.writeSignedVarint(0)
        lying.writeSignedVarint(0)
        lying.writeVarint(4000)
        #expect(throws: WireDecodingError.truncated(what: "varint")) { try Self.decode(lying) }
    }

    @Test func damagedOrMisplacedBatchesAreRejected() throws {
        let first = try S.batch("x", 2, base: 0)
        var damaged = Self.encode(.push(S.push([first])))
        let lastIndex = damaged.writerIndex - 1
        damaged.setInteger((damaged.getInteger(at: lastIndex, as: UInt8.self) ?? 0) ^ 0x10, at: lastIndex)
        #expect(throws: WireDecodingError.self) { try Self.decode(damaged) }

        let gap = try S.batch("y", 1, base: 5)
        #expect(throws: WireDecodingError.self) { try Self.decode(Self.encode(.push(S.push([first, gap])))) }

        var garbage = ByteBuffer()
        garbage.writeInteger(UInt8(1))
        garbage.writeVarint(1)
        garbage.writeSignedVarint(1)
        garbage.writeVarint(1)
        garbage.writeSignedVarint(0)
        garbage.writeSignedVarint(0)
        garbage.writeVarint(1)
        garbage.writeLengthPrefixed(bytes: [UInt8](repeating: 0xAB, count: 80))
        #expect(throws: WireDecodingError.self) { try Self.decode(garbage) }
    }

    @Test func trailingBytesInAnRPCBodyAreAnError() throws {
        var body = Self.encode(.sealRequest(SegmentSealRequest(segmentID: 1, newEpoch: 2)))
        body.writeInteger(UInt8(0))
        #expect(throws: WireDecodingError.self) { try ReplicationMessage(rpcBody: &body) }
    }
}
