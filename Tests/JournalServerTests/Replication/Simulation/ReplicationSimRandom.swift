/// PCG-XSH-RR (64-bit state, 32-bit output, two outputs per 64-bit draw): the replication
/// simulation's only source of randomness, so a run is a pure function of its seed.
struct ReplicationSimRandom: RandomNumberGenerator {
    private var state: UInt64
    private let increment: UInt64

    init(seed: UInt64) {
        increment = (seed << 1) | 1
        state = 0
        _ = next32()
        state &+= seed &+ 0x853C_49E6_748F_EA9B
        _ = next32()
    }

    private mutating func next32() -> UInt32 {
        let old = state
        state = old &* 6_364_136_223_846_793_005 &+ increment
        let xorShifted = UInt32(truncatingIfNeeded: ((old >> 18) ^ old) >> 27)
        let rotation = UInt32(truncatingIfNeeded: old >> 59)
        return (xorShifted >> rotation) | (xorShifted << ((~rotation &+ 1) & 31))
    }

    mutating func next() -> UInt64 {
        UInt64(next32()) << 32 | UInt64(next32())
    }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool {
        Double(next() >> 11) / Double(UInt64(1) << 53) < p
    }

    /// A uniform integer in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// A uniform element, or `nil` if empty.
    mutating func pick<T>(_ items: [T]) -> T? {
        items.isEmpty ? nil : items[int(0...(items.count - 1))]
    }
}
