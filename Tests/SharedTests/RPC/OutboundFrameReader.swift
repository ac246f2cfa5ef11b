import NIOCore
import NIOEmbedded
import Synchronization

@testable import Shared

/// Reads RPC frames one at a time from an `EmbeddedChannel`'s outbound side, where the
/// connection handlers write all frames of one flush as a single buffer.
enum OutboundFrameReader {
    private static let leftovers = Mutex<[ObjectIdentifier: ByteBuffer]>([:])

    static func next(_ channel: EmbeddedChannel) throws -> RPCFrame? {
        let key = ObjectIdentifier(channel)
        var buffer = leftovers.withLock { $0.removeValue(forKey: key) } ?? ByteBuffer()
        while var more = try channel.readOutbound(as: ByteBuffer.self) {
            buffer.writeBuffer(&more)
        }
        var decoder = RPCFrameDecoder()
        let frame = try decoder.decode(buffer: &buffer)
        if buffer.readableBytes > 0 {
            leftovers.withLock { $0[key] = buffer }
        }
        return frame
    }
}
