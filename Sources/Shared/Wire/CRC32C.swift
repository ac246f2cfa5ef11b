/// CRC-32C (Castagnoli, polynomial 0x1EDC6F41 reflected as 0x82F63B78), the checksum of Kafka's
/// record batches, iSCSI and ext4. Tributary protects every stored batch and log entry with it.
///
/// Table-driven, slicing-by-8: eight table lookups per 8 input bytes.
public struct CRC32C: Sendable {
    @usableFromInline
    static let tables: [[UInt32]] = {
        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for i in 0..<256 {
            var crc = UInt32(i)
            for _ in 0..<8 {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
            }
            tables[0][i] = crc
        }
        for i in 0..<256 {
            var crc = tables[0][i]
            for t in 1..<8 {
                crc = tables[0][Int(crc & 0xFF)] ^ (crc >> 8)
                tables[t][i] = crc
            }
        }
        return tables
    }()

    /// The running state (pre-inverted).
    @usableFromInline
    var state: UInt32 = 0xFFFF_FFFF

    /// A checksum of no bytes yet.
    public init() {}

    /// Feeds more bytes.
    @inlinable
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        Self.tables.withUnsafeBufferPointer { outer in
            let t0 = outer[0], t1 = outer[1], t2 = outer[2], t3 = outer[3]
            let t4 = outer[4], t5 = outer[5], t6 = outer[6], t7 = outer[7]
            var crc = state
            var index = 0
            let count = bytes.count
            while count - index >= 8 {
                let lo = UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8
                    | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24
                let hi = UInt32(bytes[index + 4]) | UInt32(bytes[index + 5]) << 8
                    | UInt32(bytes[index + 6]) << 16 | UInt32(bytes[index + 7]) << 24
                let x = crc ^ lo
                crc = t7[Int(x & 0xFF)] ^ t6[Int((x >> 8) & 0xFF)]
                    ^ t5[Int((x >> 16) & 0xFF)] ^ t4[Int(x >> 24)]
                    ^ t3[Int(hi & 0xFF)] ^ t2[Int((hi >> 8) & 0xFF)]
                    ^ t1[Int((hi >> 16) & 0xFF)] ^ t0[Int(hi >> 24)]
                index += 8
            }
            while index < count {
                crc = t0[Int((crc ^ UInt32(bytes[index])) & 0xFF)] ^ (crc >> 8)
                index += 1
            }
            state = crc
        }
    }

    /// Feeds more bytes.
    @inlinable
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { self.update(UnsafeRawBufferPointer($0)) }
        if handled == nil {
            let array = Array(bytes)
            array.withUnsafeBytes { self.update($0) }
        }
    }

    /// The checksum of everything fed so far.
    @inlinable
    public var value: UInt32 { state ^ 0xFFFF_FFFF }

    /// The checksum of `bytes`.
    @inlinable
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }

    /// The checksum of raw memory.
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }
}
