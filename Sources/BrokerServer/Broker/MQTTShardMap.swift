import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// Maps topics to the broker's message shards: `mqtt-<n>` with n = FNV-1a (32 bit) of the topic's
/// UTF-8 bytes modulo the shard count, so every message of one topic lands in one shard in order.
public struct MQTTShardMap: Hashable, Sendable {
    /// The number of shards.
    public let count: Int

    /// The name of the shard holding retained messages (key = topic, empty payload = delete).
    public static let retainedShard = "mqtt-retained"

    /// A map over `count` shards (at least one).
    public init(count: Int) {
        self.count = max(count, 1)
    }

    /// The shard index of `topic`.
    public func shard(of topic: String) -> Int {
        Int(Self.fnv1a(topic) % UInt32(count))
    }

    /// The journal name of shard `index`.
    public static func name(of index: Int) -> String { "mqtt-\(index)" }

    /// Every message shard's name, by index.
    public var names: [String] { (0..<count).map(Self.name(of:)) }

    /// 32-bit FNV-1a over the UTF-8 bytes.
    public static func fnv1a(_ text: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return hash
    }
}
