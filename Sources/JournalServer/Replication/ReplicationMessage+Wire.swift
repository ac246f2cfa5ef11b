import NIOCore
import Shared

extension ReplicationMessage {
    /// The message kind tags on the wire.
    enum Tag: UInt8 {
        case push = 1, ack, reject, sealRequest, sealResponse
    }

    /// Reject reason tags on the wire.
    enum RejectTag: UInt8 {
        case staleEpoch = 1, notContiguous
    }

    /// Appends the binary encoding: a one-byte kind tag, then the fields as varints (ids),
    /// zig-zag varints (epochs and offsets) and, for a push, a varint batch count followed by
    /// each batch as varint length + the stored RecordBatch v2 bytes.
    public func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .push(let push):
            buffer.writeInteger(Tag.push.rawValue)
            buffer.writeVarint(push.segmentID)
            buffer.writeSignedVarint(Int64(push.epoch))
            buffer.writeVarint(push.leaderID)
            buffer.writeSignedVarint(push.epochStartOffset)
            buffer.writeSignedVarint(push.highWatermark)
            buffer.writeVarint(UInt64(push.batches.count))
            for batch in push.batches {
                buffer.writeLengthPrefixed(bytes: batch.bytes)
            }
        case .ack(let ack):
            buffer.writeInteger(Tag.ack.rawValue)
            buffer.writeVarint(ack.segmentID)
            buffer.writeSignedVarint(Int64(ack.epoch))
            buffer.writeVarint(ack.replicaID)
            buffer.writeSignedVarint(ack.durableEnd)
        case .reject(let reject):
            buffer.writeInteger(Tag.reject.rawValue)
            buffer.writeVarint(reject.segmentID)
            buffer.writeSignedVarint(Int64(reject.epoch))
            buffer.writeVarint(reject.replicaID)
            switch reject.reason {
            case .staleEpoch:
                buffer.writeInteger(RejectTag.staleEpoch.rawValue)
            case .notContiguous(let end):
                buffer.writeInteger(RejectTag.notContiguous.rawValue)
                buffer.writeSignedVarint(end)
            }
        case .sealRequest(let request):
            buffer.writeInteger(Tag.sealRequest.rawValue)
            buffer.writeVarint(request.segmentID)
            buffer.writeSignedVarint(Int64(request.newEpoch))
        case .sealResponse(let response):
            buffer.writeInteger(Tag.sealResponse.rawValue)
            buffer.writeVarint(response.segmentID)
            buffer.writeVarint(response.replicaID)
            buffer.writeSignedVarint(Int64(response.epoch))
            buffer.writeSignedVarint(response.durableEnd)
        }
    }

    /// Decodes one message written by ``encode(into:)``, consuming its bytes. Every malformed
    /// input is a `WireDecodingError`: unknown tags, out-of-range epochs or offsets, limits
    /// exceeded (checked before the bytes are sliced), invalid batches (bad header or CRC) and
    /// batches that do not follow each other.
    public static func decode(
        from buffer: inout ByteBuffer,
        limits: ReplicationWireLimits = ReplicationWireLimits()
    ) throws(WireDecodingError) -> ReplicationMessage {
        let rawTag = try buffer.readFixed("replication message tag", as: UInt8.self)
        guard let tag = Tag(rawValue: rawTag) else {
            throw .unknownTag(what: "replication message", tag: UInt64(rawTag))
        }
        switch tag {
        case .push:
            let segmentID = try buffer.readVarint()
            let epoch = try readEpoch(&buffer)
            let leaderID = try buffer.readVarint()
            let epochStart = try readOffset(&buffer, "epoch start offset")
            let highWatermark = try readOffset(&buffer, "high watermark")
            let count = try buffer.readLength("push batches", limit: limits.maxBatchesPerPush)
            var batches: [ReplicatedBatch] = []
            batches.reserveCapacity(min(count, buffer.readableBytes / RecordBatchHeader.size))
            var total = 0
            for _ in 0..<count {
                let bytes = try buffer.readLengthPrefixedSlice("record batch", limit: limits.maxBatchBytes)
                total += bytes.readableBytes
                guard total <= limits.maxPushBytes else {
                    throw .lengthExceedsLimit(what: "push", length: total, limit: limits.maxPushBytes)
                }
                let batch: ReplicatedBatch
                do {
                    batch = try ReplicatedBatch(validating: bytes, maxBatchBytes: limits.maxBatchBytes)
                } catch {
                    throw .invalidValue(what: "record batch", reason: error.description)
                }
                if let previous = batches.last, previous.endOffset != batch.baseOffset {
                    throw .invalidValue(
                        what: "push", reason: "batch at \(batch.baseOffset) does not follow the batch ending at \(previous.endOffset)")
                }
                guard batch.baseOffset >= 0 else {
                    throw .invalidValue(what: "record batch", reason: "negative base offset \(batch.baseOffset)")
                }
                batches.append(batch)
            }
            return .push(
                ReplicaPush(
                    segmentID: segmentID, epoch: epoch, leaderID: leaderID, epochStartOffset: epochStart,
                    highWatermark: highWatermark, batches: batches))
        case .ack:
            let segmentID = try buffer.readVarint()
            let epoch = try readEpoch(&buffer)
            let replicaID = try buffer.readVarint()
            let durableEnd = try readOffset(&buffer, "durable end")
            return .ack(ReplicaAck(segmentID: segmentID, epoch: epoch, replicaID: replicaID, durableEnd: durableEnd))
        case .reject:
            let segmentID = try buffer.readVarint()
            let epoch = try readEpoch(&buffer)
            let replicaID = try buffer.readVarint()
            let rawReason = try buffer.readFixed("reject reason", as: UInt8.self)
            let reason: ReplicaRejectReason
            switch RejectTag(rawValue: rawReason) {
            case .staleEpoch: reason = .staleEpoch
            case .notContiguous: reason = .notContiguous(end: try readOffset(&buffer, "follower end"))
            case nil: throw .unknownTag(what: "reject reason", tag: UInt64(rawReason))
            }
            return .reject(ReplicaReject(segmentID: segmentID, epoch: epoch, replicaID: replicaID, reason: reason))
        case .sealRequest:
            let segmentID = try buffer.readVarint()
            let newEpoch = try readEpoch(&buffer)
            return .sealRequest(SegmentSealRequest(segmentID: segmentID, newEpoch: newEpoch))
        case .sealResponse:
            let segmentID = try buffer.readVarint()
            let replicaID = try buffer.readVarint()
            let epoch = try readEpoch(&buffer)
            let durableEnd = try readOffset(&buffer, "durable end")
            return .sealResponse(
                SegmentSealResponse(segmentID: segmentID, replicaID: replicaID, epoch: epoch, durableEnd: durableEnd))
        }
    }

    private static func readEpoch(_ buffer: inout ByteBuffer) throws(WireDecodingError) -> Int32 {
        let raw = try buffer.readSignedVarint()
        guard let epoch = Int32(exactly: raw), epoch >= 0 else {
            throw .invalidValue(what: "epoch", reason: "\(raw) is not in 0...\(Int32.max)")
        }
        return epoch
    }

    private static func readOffset(_ buffer: inout ByteBuffer, _ what: String) throws(WireDecodingError) -> Int64 {
        let offset = try buffer.readSignedVarint()
        guard offset >= 0 else {
            throw .invalidValue(what: what, reason: "negative offset \(offset)")
        }
        return offset
    }
}

extension ReplicationMessage: RPCMessage {
    /// Decodes a message that must fill the whole RPC body (trailing bytes are an error).
    public init(rpcBody: inout ByteBuffer) throws {
        self = try Self.decode(from: &rpcBody)
        guard rpcBody.readableBytes == 0 else {
            throw WireDecodingError.invalidValue(what: "replication message", reason: "\(rpcBody.readableBytes) trailing bytes")
        }
    }
}
