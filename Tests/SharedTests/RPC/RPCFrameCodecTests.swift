import NIOCore
import NIOEmbedded
import NIOTestUtils
import PropertyBased
import Testing
@testable import Shared

@Suite("RPC frame codec")
struct RPCFrameCodecTests {
    static func sampleFrames() -> [RPCFrame] {
        RPCFrameKind.allCases.enumerated().map { index, kind in
            var body = ByteBuffer()
            if kind == .windowUpdate {
                body.writeInteger(UInt32(64))
            } else if kind == .error {
                RPCError(.notFound, "no such shard").encode(into: &body)
            } else if kind != .streamEnd && kind != .cancel {
                body.writeString(String(repeating: "x", count: index * 7))
            }
            return RPCFrame(
                kind: kind,
                flags: UInt16(index),
                methodID: 0x0001_0000 | UInt32(index),
                correlationID: UInt64.max - UInt64(index),
                timeoutMillis: UInt32(index * 1000),
                body: body
            )
        }
    }

    static func encoded(_ frame: RPCFrame) -> ByteBuffer {
        var buffer = ByteBuffer()
        frame.encode(into: &buffer)
        return buffer
    }

    @Test("every frame kind round-trips through encoder and decoder")
    func roundTrip() throws {
        for frame in Self.sampleFrames() {
            var buffer = Self.encoded(frame)
            #expect(buffer.readableBytes == RPCFrame.headerSize + frame.body.readableBytes)
            var decoder = RPCFrameDecoder()
            let decoded = try decoder.decode(buffer: &buffer)
            #expect(decoded == frame)
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test("the header layout is the documented big-endian 26 bytes")
    func headerLayout() {
        var body = ByteBuffer()
        body.writeBytes([0xAA, 0xBB])
        let frame = RPCFrame(kind: .request, flags: 0x0102, methodID: 0x0304_0506, correlationID: 0x0708_090A_0B0C_0D0E, timeoutMillis: 0x0F10_1112, body: body)
        let bytes = Array(Self.encoded(frame).readableBytesView)
        #expect(bytes == [
            0x54, 0x42, 0x01, 0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
            0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E,
            0x0F, 0x10, 0x11, 0x12, 0x00, 0x00, 0x00, 0x02, 0xAA, 0xBB,
        ])
    }

    @Test("ByteToMessageDecoderVerifier: drip-fed, batched and single frames decode identically")
    func verifier() throws {
        let pairs = Self.sampleFrames().map { (Self.encoded($0), [$0]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { RPCFrameDecoder() }
    }

    @Test("a truncated frame yields nothing and no error until the rest arrives")
    func truncated() throws {
        for frame in Self.sampleFrames() {
            let full = Self.encoded(frame)
            for cut in 0..<full.readableBytes {
                var partial = full.getSlice(at: 0, length: cut) ?? ByteBuffer()
                var decoder = RPCFrameDecoder()
                #expect(try decoder.decode(buffer: &partial) == nil)
                #expect(partial.readableBytes == cut, "nothing may be consumed from an incomplete frame")
            }
        }
    }

    @Test("EOF inside a frame is a truncatedFrame error")
    func eofInsideFrame() throws {
        let full = Self.encoded(RPCFrame(kind: .response, correlationID: 1, body: ByteBuffer(repeating: 1, count: 10)))
        var partial = try #require(full.getSlice(at: 0, length: 30))
        var decoder = RPCFrameDecoder()
        #expect(throws: RPCFrameError.truncatedFrame(bufferedBytes: 30)) {
            _ = try decoder.decodeLast(buffer: &partial, seenEOF: true)
        }
    }

    @Test("an oversized declared body is rejected from the header alone")
    func oversized() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(RPCFrameDecoder(maxFrameBytes: 1024)))
        var header = Self.encoded(RPCFrame(kind: .request, correlationID: 1))
        header.setInteger(UInt32(1025), at: 22)
        #expect(throws: RPCFrameError.frameTooLarge(declared: 1025, limit: 1024)) {
            try channel.writeInbound(header)
        }
        // Exactly at the limit is fine.
        var decoder = RPCFrameDecoder(maxFrameBytes: 1024)
        var atLimit = ByteBuffer()
        RPCFrame(kind: .response, correlationID: 2, body: ByteBuffer(repeating: 7, count: 1024)).encode(into: &atLimit)
        #expect(try decoder.decode(buffer: &atLimit)?.body.readableBytes == 1024)

        // A huge declared length with no body following fails without waiting for the body.
        var huge = Self.encoded(RPCFrame(kind: .streamItem, correlationID: 3))
        huge.setInteger(UInt32.max, at: 22)
        var defaultDecoder = RPCFrameDecoder()
        #expect(throws: RPCFrameError.frameTooLarge(declared: UInt32.max, limit: RPCFrame.defaultMaxFrameBytes)) {
            _ = try defaultDecoder.decode(buffer: &huge)
        }
    }

    @Test("bad magic, version and kind are typed errors, detected as early as possible")
    func badHeaders() throws {
        var decoder = RPCFrameDecoder()
        var badMagic = ByteBuffer(bytes: [0x47, 0x45])  // "GE" of "GET /"
        #expect(throws: RPCFrameError.badMagic(0x4745)) { _ = try decoder.decode(buffer: &badMagic) }

        var badVersion = ByteBuffer(bytes: [0x54, 0x42, 0x02])
        #expect(throws: RPCFrameError.unsupportedVersion(2)) { _ = try decoder.decode(buffer: &badVersion) }

        var badKind = Self.encoded(RPCFrame(kind: .ping, correlationID: 9))
        badKind.setInteger(UInt8(0), at: 3)
        #expect(throws: RPCFrameError.unknownKind(0)) { _ = try decoder.decode(buffer: &badKind) }
        badKind.setInteger(UInt8(10), at: 3)
        #expect(throws: RPCFrameError.unknownKind(10)) { _ = try decoder.decode(buffer: &badKind) }
    }

    @Test("random bytes never trap: they decode to frames or a typed error")
    func garbage() async {
        await propertyCheck(count: 500, input: Gen.uint8(in: 0...255).array(of: 0...120)) { bytes in
            Self.decodeAll(ByteBuffer(bytes: bytes))
        }
    }

    @Test("random bytes behind a valid magic and version never trap either")
    func garbageAfterPrefix() async {
        await propertyCheck(count: 500, input: Gen.uint8(in: 0...255).array(of: 0...120)) { bytes in
            Self.decodeAll(ByteBuffer(bytes: [0x54, 0x42, 0x01] + bytes))
        }
    }

    private static func decodeAll(_ input: ByteBuffer) {
        var buffer = input
        var decoder = RPCFrameDecoder(maxFrameBytes: 64)
        do {
            while let frame = try decoder.decode(buffer: &buffer) {
                #expect(frame.body.readableBytes <= 64)
            }
            #expect(buffer.readableBytes < RPCFrame.headerSize + 64)
        } catch is RPCFrameError {
            // Typed rejection is the expected outcome for most garbage.
        } catch {
            Issue.record("untyped error \(error)")
        }
    }

    @Test("RPCError round-trips with and without detail, and rejects unknown codes")
    func errorBody() throws {
        var detail = ByteBuffer()
        detail.writeString("leader:7001")
        for error in [RPCError(.notLeader, "ask the leader", detail: detail), RPCError(.internal)] + RPCError.Code.allCases.map({ RPCError($0, "\($0)") }) {
            var buffer = ByteBuffer()
            error.encode(into: &buffer)
            #expect(try RPCError(rpcBody: &buffer) == error)
        }
        var unknown = ByteBuffer()
        unknown.writeInteger(UInt16(999))
        #expect(throws: WireDecodingError.unknownTag(what: "error code", tag: 999)) { _ = try RPCError(rpcBody: &unknown) }
    }

    @Test("NodeAPI messages round-trip")
    func nodeMessages() throws {
        let status = NodeStatus(nodeID: "n1", roles: ["broker", "meta"], version: "1.2.3", uptimeSeconds: 86_400)
        var buffer = ByteBuffer()
        status.encode(into: &buffer)
        #expect(try NodeStatus(rpcBody: &buffer) == status)
        let ping = NodePing(payload: ByteBuffer(bytes: [1, 2, 3]))
        buffer.clear()
        ping.encode(into: &buffer)
        #expect(try NodePing(rpcBody: &buffer) == ping)
    }
}
