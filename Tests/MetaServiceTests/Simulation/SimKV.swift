import Shared
import NIOCore

/// A client operation on the simulation's key-value state machine.
enum KVOperation: Hashable, Sendable {
    case put(key: UInt8, value: Int64)
    case get(key: UInt8)
    case cas(key: UInt8, expected: Int64?, new: Int64)

    var key: UInt8 {
        switch self {
        case .put(let key, _), .get(let key), .cas(let key, _, _): key
        }
    }
}

/// The result of a ``KVOperation``.
enum KVOutput: Hashable, Sendable {
    case ok
    case value(Int64?)
    case swapped(Bool)
}

/// A replicated command: a client operation with a unique ID.
struct KVCommand: Equatable {
    var opID: UInt64
    var operation: KVOperation

    func encoded() -> [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: 24)
        buffer.writeVarint(opID)
        switch operation {
        case .put(let key, let value):
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(key)
            buffer.writeSignedVarint(value)
        case .get(let key):
            buffer.writeInteger(UInt8(1))
            buffer.writeInteger(key)
        case .cas(let key, let expected, let new):
            buffer.writeInteger(UInt8(2))
            buffer.writeInteger(key)
            buffer.writeBool(expected != nil)
            buffer.writeSignedVarint(expected ?? 0)
            buffer.writeSignedVarint(new)
        }
        return Array(buffer.readableBytesView)
    }

    static func decode(_ bytes: [UInt8]) -> KVCommand? {
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        do {
            let opID = try buffer.readVarint()
            let tag = try buffer.readFixed("tag", as: UInt8.self)
            let key = try buffer.readFixed("key", as: UInt8.self)
            switch tag {
            case 0: return KVCommand(opID: opID, operation: .put(key: key, value: try buffer.readSignedVarint()))
            case 1: return KVCommand(opID: opID, operation: .get(key: key))
            case 2:
                let has = try buffer.readBool("has")
                let expected = try buffer.readSignedVarint()
                let new = try buffer.readSignedVarint()
                return KVCommand(opID: opID, operation: .cas(key: key, expected: has ? expected : nil, new: new))
            default: return nil
            }
        } catch {
            return nil
        }
    }
}

/// The sequential specification shared by the replicas and the linearizability checker.
enum KVModel {
    /// Applies `operation` to the value of its key; returns the output and the new value.
    static func step(_ value: Int64?, _ operation: KVOperation) -> (KVOutput, Int64?) {
        switch operation {
        case .put(_, let new): return (.ok, new)
        case .get: return (.value(value), value)
        case .cas(_, let expected, let new):
            return value == expected ? (.swapped(true), new) : (.swapped(false), value)
        }
    }
}

/// A replica's state machine.
struct KVStore: Equatable {
    var values: [UInt8: Int64] = [:]

    mutating func apply(_ operation: KVOperation) -> KVOutput {
        let (output, new) = KVModel.step(values[operation.key], operation)
        values[operation.key] = new
        return output
    }

    func snapshotBytes() -> [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        buffer.writeVarint(UInt64(values.count))
        for key in values.keys.sorted() {
            buffer.writeInteger(key)
            buffer.writeSignedVarint(values[key] ?? 0)
        }
        return Array(buffer.readableBytesView)
    }

    init() {}

    init?(snapshot bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        do {
            let count = try buffer.readLength("count", limit: 256)
            for _ in 0..<count {
                let key = try buffer.readFixed("key", as: UInt8.self)
                values[key] = try buffer.readSignedVarint()
            }
        } catch {
            return nil
        }
    }
}
