import NIOCore
import Shared

extension MetaStore {
    private static let snapshotVersion: UInt8 = 1

    /// The whole store as bytes, for a Raft snapshot. The change history is not included: a
    /// watcher resuming from before the snapshot gets ``MetaError/compacted(oldestRevision:)``
    /// and re-reads.
    public func snapshot() -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeInteger(Self.snapshotVersion)
        buffer.writeVarint(revision)
        buffer.writeVarint(UInt64(keys.count))
        for key in keys.keys.sorted() {
            keys[key]?.encode(into: &buffer)
        }
        buffer.writeVarint(UInt64(leases.count))
        for id in leases.keys.sorted() {
            buffer.writeVarint(id)
            buffer.writeVarint(leases[id]?.ttlMillis ?? 0)
        }
        return Array(buffer.readableBytesView)
    }

    /// Restores a store from ``snapshot()`` bytes.
    public init(snapshot bytes: [UInt8], historyLimit: Int = 100_000) throws(WireDecodingError) {
        self.init(historyLimit: historyLimit)
        var buffer = ByteBuffer(bytes: bytes)
        let version = try buffer.readFixed("meta snapshot version", as: UInt8.self)
        guard version == Self.snapshotVersion else {
            throw .unknownTag(what: "meta snapshot version", tag: UInt64(version))
        }
        let revision = try buffer.readVarint()
        let keyCount = try buffer.readLength("key count", limit: bytes.count)
        var keys: [String: MetaKeyValue] = [:]
        keys.reserveCapacity(keyCount)
        for _ in 0..<keyCount {
            let record = try MetaKeyValue(from: &buffer)
            keys[record.key] = record
        }
        let leaseCount = try buffer.readLength("lease count", limit: bytes.count)
        var leases: [UInt64: Lease] = [:]
        for _ in 0..<leaseCount {
            let id = try buffer.readVarint()
            leases[id] = Lease(ttlMillis: try buffer.readVarint(), keys: [])
        }
        for record in keys.values where record.lease != 0 {
            guard leases[record.lease] != nil else {
                throw .invalidValue(what: "meta snapshot", reason: "key \(record.key) names missing lease \(record.lease)")
            }
            leases[record.lease]?.keys.insert(record.key)
        }
        guard buffer.readableBytes == 0 else {
            throw .invalidValue(what: "meta snapshot", reason: "\(buffer.readableBytes) trailing bytes")
        }
        self.revision = revision
        self.keys = keys
        self.leases = leases
        self.oldestRetainedRevision = revision + 1
    }
}

extension MetaStore: Equatable {
    /// Stores are equal when their revision, keys and leases are (history is a cache).
    public static func == (a: MetaStore, b: MetaStore) -> Bool {
        a.revision == b.revision && a.keys == b.keys && a.leases == b.leases
    }
}
