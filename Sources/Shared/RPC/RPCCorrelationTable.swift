/// The calls a client connection is waiting on, keyed by correlation id, without hashing or
/// allocating per call.
///
/// A power-of-two ring of slots indexed by the low bits of the id. Ids come from a 64-bit counter
/// (never 0, which keep-alive pings use), so a live id is never handed out twice; when the slot
/// of the next id is still taken by a long-running call (a stream), that id is skipped. The ring
/// doubles when it gets half full, so lookups stay one probe and ids of live calls never collide
/// (ids that differ in their low bits still differ with one bit more). Confined to one event loop.
struct RPCCorrelationTable<Value> {
    private struct Slot {
        var id: UInt64
        var value: Value?
    }

    private var slots: [Slot]
    private var mask: Int
    private var nextID: UInt64

    /// The number of entries.
    private(set) var count = 0

    /// An empty table with room for `capacity` slots (rounded up to a power of two), handing out
    /// ids starting at `firstID` (tests start near the wraparound).
    init(capacity: Int = 64, firstID: UInt64 = 1) {
        var size = 8
        while size < capacity { size <<= 1 }
        self.slots = Array(repeating: Slot(id: 0, value: nil), count: size)
        self.mask = size - 1
        self.nextID = firstID == 0 ? 1 : firstID
    }

    /// The number of slots (for tests).
    var capacity: Int { self.slots.count }

    /// Whether the table is empty.
    var isEmpty: Bool { self.count == 0 }

    /// Stores `value` under a fresh correlation id and returns the id.
    mutating func insert(_ value: Value) -> UInt64 {
        if (self.count + 1) * 2 > self.slots.count {
            self.grow()
        }
        while true {
            let id = self.nextID
            self.nextID = id == .max ? 1 : id + 1
            let index = Int(truncatingIfNeeded: id) & self.mask
            if self.slots[index].id == 0 {
                self.slots[index] = Slot(id: id, value: value)
                self.count += 1
                return id
            }
        }
    }

    /// The value stored under `id`, if any.
    subscript(id: UInt64) -> Value? {
        guard id != 0 else { return nil }
        let index = Int(truncatingIfNeeded: id) & self.mask
        return self.slots[index].id == id ? self.slots[index].value : nil
    }

    /// Removes and returns the value stored under `id`, if any.
    mutating func removeValue(forKey id: UInt64) -> Value? {
        guard id != 0 else { return nil }
        let index = Int(truncatingIfNeeded: id) & self.mask
        guard self.slots[index].id == id else { return nil }
        let value = self.slots[index].value
        self.slots[index] = Slot(id: 0, value: nil)
        self.count -= 1
        return value
    }

    /// Removes and returns every value (in slot order).
    mutating func removeAll() -> [Value] {
        guard self.count > 0 else { return [] }
        var values: [Value] = []
        values.reserveCapacity(self.count)
        for index in self.slots.indices where self.slots[index].id != 0 {
            if let value = self.slots[index].value {
                values.append(value)
            }
            self.slots[index] = Slot(id: 0, value: nil)
        }
        self.count = 0
        return values
    }

    private mutating func grow() {
        let old = self.slots
        let size = old.count * 2
        self.slots = Array(repeating: Slot(id: 0, value: nil), count: size)
        self.mask = size - 1
        for slot in old where slot.id != 0 {
            self.slots[Int(truncatingIfNeeded: slot.id) & self.mask] = slot
        }
    }
}
